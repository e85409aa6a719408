"""Reply text without quoted history in several languages, and automatic replies recognised."""

from __future__ import annotations

import pytest

from core.mail.reply_text import is_automatic_reply, strip_quoted_history

QUOTED = "> Hi Ana,\n> We cut freight costs 12% for Northwind.\n> Riley"


@pytest.mark.parametrize("header", [
    "On Tue, 3 Jun 2025 at 10:02, Riley Rep <riley@acme-sales.example> wrote:",
    "On Tue, Jun 3, 2025 at 10:02 AM Riley Rep <riley@acme-sales.example>\nwrote:",
    "Am Di., 3. Juni 2025 um 10:02 Uhr schrieb Riley Rep <riley@acme-sales.example>:",
    "El mar, 3 jun 2025 a las 10:02, Riley Rep (<riley@acme-sales.example>) escribió:",
    "Le mar. 3 juin 2025 à 10:02, Riley Rep <riley@acme-sales.example> a écrit :",
])
def test_quoted_history_below_a_client_header_is_removed(header: str) -> None:
    text = f"Yes, let's talk on Thursday.\n\n{header}\n{QUOTED}\n"
    assert strip_quoted_history(text) == "Yes, let's talk on Thursday."


def test_outlook_original_message_block_is_removed() -> None:
    text = ("Please call me tomorrow.\n\n-----Original Message-----\nFrom: Riley Rep\nSent: Tuesday, June 3, 2025\n"
            "To: Ana\nSubject: Freight\n\nHi Ana, ...")
    assert strip_quoted_history(text) == "Please call me tomorrow."


def test_outlook_header_block_without_separator_is_removed() -> None:
    text = ("Bitte rufen Sie mich an.\n\nVon: Riley Rep <riley@acme-sales.example>\nGesendet: Dienstag, 3. Juni 2025\n"
            "An: Ana\nBetreff: Fracht\n\nHallo Ana")
    assert strip_quoted_history(text) == "Bitte rufen Sie mich an."


def test_mobile_signature_is_removed_and_a_plain_reply_is_kept_whole() -> None:
    assert strip_quoted_history("Sounds good.\nSent from my iPhone\n") == "Sounds good."
    assert strip_quoted_history("Line one.\nLine two.") == "Line one.\nLine two."


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"X-Autorespond": "Out of office"},
    {"Precedence": "auto_reply"},
])
def test_automatic_reply_headers_are_recognised(headers: dict[str, str]) -> None:
    assert is_automatic_reply(headers, "Re: Freight", "Thanks")


@pytest.mark.parametrize(("subject", "text"), [
    ("Automatic reply: Freight", ""),
    ("Abwesenheitsnotiz: Fracht", ""),
    ("Respuesta automática: Flete", ""),
    ("Réponse automatique : Fret", ""),
    ("Re: Freight", "I am out of the office until Monday with limited access to email."),
    ("AW: Fracht", "Ich bin bis 20.08. nicht im Büro."),
    ("RE: Flete", "Estoy fuera de la oficina hasta el lunes."),
    ("RE: Fret", "Je suis absent jusqu'au 3 juin."),
])
def test_out_of_office_phrasing_is_recognised(subject: str, text: str) -> None:
    assert is_automatic_reply({}, subject, text)


def test_a_person_answering_is_not_an_automatic_reply() -> None:
    assert not is_automatic_reply({"Auto-Submitted": "no"}, "Re: Freight", "Happy to talk next week.")
