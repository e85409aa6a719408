"""Mail that comes back, written the way real servers and clients write it, for the outbox demo and tests.

The Outbox page's buttons inject these through the same inbound pipeline as real mail (process_inbound_mail).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.utils import format_datetime, formataddr, make_msgid

from core.auth.actor import Actor
from core.auth.permissions import UPDATE, require
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.mail.inbound import process_inbound_mail
from core.mail.models import Mailbox, SendLedgerEntry
from core.mail.schemas import InboundView
from core.services import Services

KINDS = ("reply", "auto_reply", "bounce", "soft_bounce", "complaint")


@dataclass(frozen=True)
class SentFacts:
    """What the answering side knows of the message we sent."""

    message_id: str
    to_email: str
    from_email: str
    subject: str
    body: str
    references: str = ""


def _date() -> str:
    return format_datetime(utcnow())


def reply_to(sent: SentFacts, text: str, *, name: str = "") -> bytes:
    """A person's reply: threaded, quoting our message below an "On … wrote:" line, as Gmail writes it."""
    quoted = "\n".join("> " + line for line in sent.body.splitlines())
    references = " ".join(p for p in (sent.references, sent.message_id) if p)
    return (f"From: {formataddr((name, sent.to_email))}\r\nTo: {sent.from_email}\r\n"
            f"Subject: Re: {sent.subject}\r\nDate: {_date()}\r\n"
            f"Message-ID: {make_msgid(domain='recipient.example')}\r\n"
            f"In-Reply-To: {sent.message_id}\r\nReferences: {references}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{text}\r\n\r\nOn {_date()}, {sent.from_email} wrote:\r\n{quoted}\r\n").encode()


def auto_reply_to(sent: SentFacts, text: str = "") -> bytes:
    """An out-of-office answer (RFC 3834 Auto-Submitted), as Exchange sends it."""
    text = text or "I am out of the office until next Monday with limited access to email."
    return (f"From: {sent.to_email}\r\nTo: {sent.from_email}\r\nSubject: Automatic reply: {sent.subject}\r\n"
            f"Date: {_date()}\r\nMessage-ID: {make_msgid(domain='recipient.example')}\r\n"
            f"In-Reply-To: {sent.message_id}\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").encode()


def bounce_for(sent: SentFacts, *, status: str = "5.1.1", action: str = "failed",
               diagnostic: str = "smtp; 550 5.1.1 The email account that you tried to reach does not exist") -> bytes:
    """A delivery status notification (RFC 3464) from the recipient's server."""
    boundary = "dsn-" + uuid.uuid4().hex
    human = ("Your message could not be delivered." if action == "failed"
             else "Delivery is delayed; the server will keep trying.")
    return (f"From: Mail Delivery Subsystem <mailer-daemon@mx.recipient.example>\r\nTo: {sent.from_email}\r\n"
            f"Subject: Delivery Status Notification ({'Failure' if action == 'failed' else 'Delay'})\r\n"
            f"Date: {_date()}\r\nMessage-ID: {make_msgid(domain='mx.recipient.example')}\r\n"
            f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{human}\r\n\r\n"
            f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.recipient.example\r\nArrival-Date: {_date()}\r\n\r\n"
            f"Final-Recipient: rfc822; {sent.to_email}\r\nAction: {action}\r\nStatus: {status}\r\n"
            f"Remote-MTA: dns; mx.recipient.example\r\nDiagnostic-Code: {diagnostic}\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: {sent.from_email}\r\nTo: {sent.to_email}\r\nSubject: {sent.subject}\r\n"
            f"Message-ID: {sent.message_id}\r\n\r\n--{boundary}--\r\n").encode()


def complaint_for(sent: SentFacts) -> bytes:
    """An abuse report (RFC 5965 ARF) from a mailbox provider's feedback loop."""
    boundary = "arf-" + uuid.uuid4().hex
    return (f"From: Feedback Loop <fbl@provider.example>\r\nTo: {sent.from_email}\r\n"
            f"Subject: Abuse report\r\nDate: {_date()}\r\nMessage-ID: {make_msgid(domain='provider.example')}\r\n"
            f"MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=feedback-report; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"This is an email abuse report for an email message received from IP 192.0.2.1.\r\n\r\n"
            f"--{boundary}\r\nContent-Type: message/feedback-report\r\n\r\n"
            f"Feedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n"
            f"Original-Mail-From: <{sent.from_email}>\r\nOriginal-Rcpt-To: <{sent.to_email}>\r\n"
            f"Arrival-Date: {_date()}\r\nSource-IP: 192.0.2.1\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: {sent.from_email}\r\nTo: {sent.to_email}\r\nSubject: {sent.subject}\r\n"
            f"Message-ID: {sent.message_id}\r\n\r\n--{boundary}--\r\n").encode()


def sent_facts(services: Services, ledger_entry_id: int) -> SentFacts:
    with services.uow() as uow:
        entry = uow.session.get(SendLedgerEntry, ledger_entry_id)
        if entry is None:
            raise NotFound(f"send {ledger_entry_id} not found")
        mailbox = uow.session.get(Mailbox, entry.mailbox_id)
        return SentFacts(message_id=entry.message_id, to_email=entry.to_email,
                         from_email=mailbox.email if mailbox else "", subject=entry.subject, body=entry.body,
                         references=entry.references or "")


def inject_outbox_response(services: Services, *, actor: Actor, ledger_entry_id: int, kind: str,
                           text: str = "") -> InboundView:
    """The outbox demo's "the recipient answered" buttons: real-looking mail through the real inbound pipeline."""
    require(actor, "sending", UPDATE)
    if kind not in KINDS:
        raise ValidationFailed(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    sent = sent_facts(services, ledger_entry_id)
    raw = {"reply": lambda: reply_to(sent, text or "Sounds interesting, can we talk on Thursday?"),
           "auto_reply": lambda: auto_reply_to(sent, text),
           "bounce": lambda: bounce_for(sent),
           "soft_bounce": lambda: bounce_for(sent, status="4.2.2",
                                             diagnostic="smtp; 452 4.2.2 Mailbox full, try again later"),
           "complaint": lambda: complaint_for(sent)}[kind]()
    return process_inbound_mail(services, raw, source="outbox")
