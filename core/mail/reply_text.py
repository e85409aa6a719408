"""What a person wrote in a reply, without the quoted history; and whether a message is an automatic reply.

Pure functions over text and headers, shared by every inbound source (Gmail sync, the outbox page, tests).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import EmailMessage, Message

from core.mail.building import html_to_text

# A line that opens the quoted history: "On Tue, 3 Jun 2025 at 10:00, Riley <r@x> wrote:" and its translations.
# Mail clients wrap these headers over two lines, so they are matched on a line joined with the next one.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.{0,300}\bwrote\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,120}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*El\b.{0,300}\bescribi[óo]\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Le\b.{0,300}\ba\s+[ée]crit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Il giorno\b.{0,300}\bha scritto\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Op\b.{0,300}\bschreef\b.{0,120}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Em\b.{0,300}\bescreveu\s*:\s*$", re.IGNORECASE | re.DOTALL),
]
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Urspr[üu]ngliche Nachricht|Mensaje original|Message d'origine|"
    r"Messaggio originale|Forwarded message|Weitergeleitete Nachricht)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE)
# Outlook quotes with a block of headers instead: From:/Von:/De: followed within a few lines by Sent:/Gesendet:/…
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|Von|De|Da|Van)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|Gesendet|Datum|Enviado|Fecha|Envoy[ée]|Date|Inviato|Verzonden|To|An|"
                           r"Para|[ÀA]|Subject|Betreff|Asunto|Objet)\s*:", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(--|-- |Sent from my \w+|Von meinem \w+ gesendet|Enviado desde mi \w+|"
                        r"Envoy[ée] de mon \w+)\s*$", re.IGNORECASE)


def _cut_at(lines: list[str]) -> int:
    """Index of the first line of quoted history (len(lines) when there is none)."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            return i
        if _SEPARATORS.match(line):
            return i
        if _header_start(stripped):
            for span in (1, 2, 3):
                joined = " ".join(part.strip() for part in lines[i:i + span])
                if any(pattern.match(joined) for pattern in _QUOTE_HEADERS):
                    return i
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1:i + 5]):
            return i
    return len(lines)


def _header_start(line: str) -> bool:
    return bool(re.match(r"^(On|Am|El|Le|Il giorno|Op|Em)\b", line, re.IGNORECASE))


def strip_quoted_history(text: str) -> str:
    """The new text of a reply: everything above the quoted earlier messages and the signature."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept = lines[:_cut_at(lines)]
    for i, line in enumerate(kept):
        if _SIGNATURE.match(line):
            kept = kept[:i]
            break
    return "\n".join(kept).strip()


def body_text(message: Message) -> str:
    """The text/plain body (or the HTML one turned into text) of a message, decoded."""
    if isinstance(message, EmailMessage):
        part = message.get_body(("plain", "html"))
        if part is None:
            return ""
        content = part.get_content()
        text = content if isinstance(content, str) else content.decode("utf-8", "replace")
        return html_to_text(text) if part.get_content_subtype() == "html" else text
    payload = message.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


# --- Automatic replies ------------------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|out of (the )?office|abwesenheitsnotiz|automatische antwort|"
    r"respuesta autom[áa]tica|fuera de la oficina|r[ée]ponse automatique|absence du bureau|risposta automatica|"
    r"fuori sede|automatisch antwoord|afwezig|autosvar|resposta autom[áa]tica)\b", re.IGNORECASE)
_AUTO_BODY = re.compile(
    r"\b(I am|I'm|I will be)\s+(currently\s+)?(out of (the )?office|on (annual |parental )?leave|away from "
    r"(the office|my desk)|on vacation|on holiday|travell?ing with limited)|"
    r"\bout of (the )?office (until|from|through)\b|limited access to (my )?e-?mail|"
    r"\bich bin (bis|vom|ab|derzeit|zurzeit)\b.{0,80}\b(nicht im b[üu]ro|abwesend|im urlaub|nicht erreichbar)|"
    r"\b(estoy|estar[ée]) fuera de la oficina|\bde vacaciones hasta\b|"
    r"\bje suis (actuellement )?(absent|en cong[ée]s?|en vacances)|\bje serai absent|"
    r"\bsono fuori (ufficio|sede)\b|\bthis is an automated (reply|response|message)\b",
    re.IGNORECASE | re.DOTALL)


def is_automatic_reply(headers: Mapping[str, str] | Message, subject: str, text: str) -> bool:
    """RFC 3834 Auto-Submitted, the X-Autoreply family, Precedence, and out-of-office phrasing."""
    def header(name: str) -> str:
        value = headers.get(name)
        return str(value).strip().lower() if value is not None else ""

    auto_submitted = header("Auto-Submitted")
    if auto_submitted and auto_submitted != "no":
        return True
    if header("X-Autoreply") or header("X-Autorespond") or header("X-Autoresponse"):
        return True
    if header("Precedence") in ("auto_reply", "auto-reply"):
        return True
    if header("X-Auto-Response-Suppress") and _AUTO_SUBJECT.search(subject):
        return True
    if _AUTO_SUBJECT.search(subject):
        return True
    return bool(_AUTO_BODY.search(text[:2000]))
