"""Preview: the message as it would leave, its compliance, a real SpamAssassin score, warnings, test send."""

from __future__ import annotations

import shutil
from email import message_from_bytes, policy

import pytest

from core.auth.actor import Actor
from core.content.drafts import create_draft
from core.content.schemas import DraftInput
from core.integrations.spamassassin import SpamAssassinCli, parse_report
from core.mail.preview import content_warnings, preview_email, send_test_to_self
from core.mail.schemas import MailboxView
from core.services import Services
from tests import factories
from tests.conftest import unavailable
from tests.fakes.smtp_sink import SmtpSink


class Unscored:
    label = "no checker"

    def score(self, raw_message: bytes):  # type: ignore[no-untyped-def]
        return SpamAssassinCli(executable="no-such-spamassassin-binary").score(raw_message)


def draft_for(services: Services, admin: Actor, body: str, subject: str = "Freight costs at Northwind") -> tuple[int, int]:
    contact = factories.contact(services, admin)
    draft = create_draft(services.uow(), actor=admin, data=DraftInput(contact_id=contact.id, subject=subject,
                                                                     body=body))
    return contact.id, draft.id


def test_preview_shows_html_text_and_a_passing_compliance_check(services: Services, admin: Actor,
                                                                smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, "Hi John,\n\nWorth a chat about https://acme-sales.example?")
    shown = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id, spam_checker=Unscored())
    assert shown.subject == "Freight costs at Northwind" and shown.from_email == smtp_mailbox.email
    assert "12 Harbour Street" in shown.body_text and "Unsubscribe" in shown.body_html
    assert shown.compliance.compliant and shown.warnings == []


def test_missing_spamassassin_says_so_instead_of_a_score(services: Services, admin: Actor,
                                                         smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, "Hi John")
    spam = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id,
                         spam_checker=Unscored()).spam
    assert not spam.available and spam.score is None and "not installed" in spam.note


@pytest.mark.slow
def test_real_spamassassin_scores_a_spammy_draft_higher(services: Services, admin: Actor,
                                                        smtp_mailbox: MailboxView, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("one SpamAssassin run is enough; the database is not its subject")
    if shutil.which("spamassassin") is None:
        unavailable("spamassassin", "not installed (apt-get install spamassassin)")
    contact_id, draft_id = draft_for(services, admin, "CLICK HERE to WIN FREE MONEY!!! 100% GUARANTEED, ACT NOW! $$$",
                                     subject="FREE MONEY GUARANTEED!!!")
    shown = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id)
    assert shown.spam.available and shown.spam.score is not None and shown.spam.score > 0
    assert shown.spam.required == 5.0 and shown.spam.rules
    assert any("spam-filter phrases" in w for w in shown.warnings) and any("capitals" in w for w in shown.warnings)


def test_spamassassin_report_is_parsed() -> None:
    report = ("Content analysis details:   (3.9 points, 5.0 required)\n\n pts rule name              description\n"
              "---- ---------------------- ----------------\n 2.7 MISSING_DATE           Missing Date: header\n"
              " 0.6 MISSING_MID            Missing Message-Id:\n                            header\n")
    score = parse_report(report)
    assert (score.score, score.required) == (3.9, 5.0)
    assert [(r.points, r.name) for r in score.rules] == [(2.7, "MISSING_DATE"), (0.6, "MISSING_MID")]
    assert score.rules[1].description == "Missing Message-Id: header"


def test_content_warnings_flag_links_images_and_shouting() -> None:
    html = "".join(f'<a href="https://x.example/{i}">x</a>' for i in range(5)) + '<img src="a.png">'
    warnings = content_warnings("BUY NOW", "short text here", html)
    assert any("links" in w for w in warnings) and any("image" in w for w in warnings)
    assert any("capitals" in w for w in warnings) and any("buy now" in w for w in warnings)


def test_test_send_goes_to_oneself_not_to_the_contact(services: Services, admin: Actor, sink: SmtpSink,
                                                      smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, "Hi John,\n\nWorth a chat?")
    send_test_to_self(services, actor=admin, contact_id=contact_id, draft_id=draft_id)
    (raw,) = sink.handler.messages
    message = message_from_bytes(raw, policy=policy.default)
    assert message["To"] == admin.email and message["Subject"] == "[Test] Freight costs at Northwind"
