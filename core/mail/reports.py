"""Machine-written mail about our mail: delivery status notifications (RFC 3464) and abuse reports (RFC 5965).

Standard DSNs are read field by field (Final-Recipient, Action, Status); the many non-standard bounce formats
real servers still send are left to flufl.bounce's detectors, which know the recipients but not the status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from flufl.bounce import all_failures

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class BounceReport:
    recipients: tuple[str, ...]
    status: str  # the enhanced status code, e.g. "5.1.1"; "5.0.0"/"4.0.0" when only the detector knew
    action: str  # failed | delayed
    diagnostic: str
    original_message_id: str | None

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5")


@dataclass(frozen=True)
class ComplaintReport:
    feedback_type: str
    recipients: tuple[str, ...]
    original_message_id: str | None


def _report_type(message: Message) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    return str(message.get_param("report-type", "", header="content-type") or "").lower()


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    return [HeaderParser().parsestr(block.strip() + "\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def _address(value: object) -> str:
    """``rfc822; someone@example.com`` → ``someone@example.com``."""
    text = str(value or "").strip()
    return text.split(";", 1)[1].strip().strip("<>").lower() if ";" in text else text.strip("<>").lower()


def original_message_id(message: Message) -> str | None:
    """Message-ID of the message a report is about, from its message/rfc822 or text/rfc822-headers part."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_message, Message) and inner_message.get("Message-ID"):
                return str(inner_message["Message-ID"]).strip()
        elif kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(part.get_payload())
            found = HeaderParser().parsestr(text).get("Message-ID")
            if found:
                return str(found).strip()
    return None


def parse_bounce(message: Message) -> BounceReport | None:
    """A DSN of a failed or delayed delivery; None when the message is not a bounce."""
    if _report_type(message) == "delivery-status":
        for part in message.walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            recipients, statuses, actions, diagnostics = [], [], [], []
            for block in _blocks(part)[1:] or _blocks(part):
                action = str(block.get("Action", "")).strip().lower()
                if action not in ("failed", "delayed"):
                    continue
                recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
                if recipient:
                    recipients.append(_address(recipient))
                code = _STATUS.search(str(block.get("Status", "")))
                statuses.append(code.group(0) if code else ("5.0.0" if action == "failed" else "4.0.0"))
                actions.append(action)
                diagnostics.append(str(block.get("Diagnostic-Code", "")).strip())
            if statuses:
                # One permanent failure among the recipients decides; ours carry one recipient each anyway.
                index = next((i for i, s in enumerate(statuses) if s.startswith("5")), 0)
                return BounceReport(tuple(recipients), statuses[index], actions[index], diagnostics[index][:500],
                                    original_message_id(message))
            return None
    if not _looks_like_a_bounce(message):
        return None
    temporary, permanent = all_failures(message)
    if not (temporary or permanent):
        return None
    found = permanent or temporary
    stated = _STATUS.search(_plain_text(message))
    status = stated.group(0) if stated else ("5.0.0" if permanent else "4.0.0")
    if permanent and not status.startswith("5"):
        status = "5.0.0"
    addresses = tuple(sorted(a.decode("utf-8", "replace").lower() for a in found))
    return BounceReport(addresses, status, "failed", "", original_message_id(message))


_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(r"undeliver|delivery (status|failure|has failed)|failure notice|returned mail|"
                             r"unzustellbar|non remis|no entregado|rejected", re.IGNORECASE)


def _looks_like_a_bounce(message: Message) -> bool:
    """Only mail from a mail system is given to the detectors (they are slow and chatty on replies)."""
    return bool(_BOUNCE_SENDER.search(str(message.get("From", ""))) or _BOUNCE_SUBJECT.search(
        str(message.get("Subject", ""))) or message.get_content_type() == "multipart/report")


def _plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return raw.decode("utf-8", "replace")
    return ""


def parse_complaint(message: Message) -> ComplaintReport | None:
    """An ARF feedback report (RFC 5965); None when the message is not one."""
    if _report_type(message) != "feedback-report":
        return None
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields: dict[str, str] = {}
        recipients: list[str] = []
        for block in _blocks(part):
            for name, value in block.items():
                fields.setdefault(name.lower(), str(value).strip())
                if name.lower() in ("original-rcpt-to", "removal-recipient"):
                    recipients.append(_address(value))
        return ComplaintReport(fields.get("feedback-type", "abuse").lower(), tuple(recipients),
                               original_message_id(message))
    return None
