"""The one inbound pipeline: every message that comes back (Gmail history sync, the outbox page, tests) goes
through ``process_inbound_mail``.

read → sort (complaint, bounce, auto-reply, reply) → classify the reply (the model may be called: no transaction
is open) → record everything in one transaction (the message once per Message-ID, its event, suppressions, soft
bounce retry, notification) → then the follow-ups that are use cases of their own (owner's task, campaign
engagement stamp).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth.actor import SYSTEM
from core.campaigns.service import record_engagement
from core.crm.models import Contact, Suppression, SuppressionReason, TaskPriority, TaskType
from core.crm.schemas import TaskInput
from core.crm.tasks import create_task
from core.errors import SalesAgentError
from core.logging import get_logger
from core.mail.intent import SENTIMENT, ReplyIntent, classify_reply_intent
from core.mail.models import (
    EventType,
    InboundKind,
    InboundMessage,
    MessageEvent,
    Notification,
    SendLedgerEntry,
    SendStatus,
)
from core.mail.reply_text import body_text, is_automatic_reply, strip_quoted_history
from core.mail.reports import parse_bounce, parse_complaint
from core.mail.schemas import InboundView
from core.services import Services
from core.uow import UnitOfWork

log = get_logger(__name__)

MAX_SOFT_BOUNCES = 3
_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class SortedMail:
    """What a message is, decided from its content alone (no database)."""

    message_id: str
    kind: InboundKind
    from_email: str
    subject: str
    text: str
    referenced_ids: tuple[str, ...]  # our Message-IDs it points at, most specific first
    addresses: tuple[str, ...]  # whom it is about: the sender of a reply, the recipients of a report
    status_code: str | None = None
    permanent: bool = False
    retry_send: bool = False  # a 4.x.x "failed" DSN: send again later
    intent: ReplyIntent | None = None
    intent_source: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def read_message(raw: bytes) -> Message:
    return BytesParser(policy=policy.default).parsebytes(raw)


def _ids(value: object) -> list[str]:
    return _MSGID.findall(str(value or ""))


def sort_mail(message: Message, raw: bytes) -> SortedMail:
    """Complaint, bounce, auto-reply or reply; the reply's own text without the quoted history."""
    own_ids = _ids(message.get("Message-ID"))
    message_id = own_ids[0] if own_ids else "<sha256-" + hashlib.sha256(raw).hexdigest()[:40] + "@inbound>"
    from_email = parseaddr(str(message.get("From", "")))[1].lower()
    subject = str(message.get("Subject", ""))[:500]
    threaded = tuple(_ids(message.get("In-Reply-To")) + list(reversed(_ids(message.get("References")))))
    complaint = parse_complaint(message)
    if complaint is not None:
        ids = ((complaint.original_message_id,) if complaint.original_message_id else ()) + threaded
        return SortedMail(message_id, InboundKind.complaint, from_email, subject, complaint.feedback_type, ids,
                          complaint.recipients, permanent=True)
    bounce = parse_bounce(message)
    if bounce is not None:
        ids = ((bounce.original_message_id,) if bounce.original_message_id else ()) + threaded
        kind = InboundKind.bounce if bounce.permanent else InboundKind.soft_bounce
        return SortedMail(message_id, kind, from_email, subject, bounce.diagnostic, ids, bounce.recipients,
                          status_code=bounce.status, permanent=bounce.permanent,
                          retry_send=not bounce.permanent and bounce.action == "failed")
    full_text = body_text(message)
    text = strip_quoted_history(full_text) or full_text.strip()
    if is_automatic_reply(message, subject, text):
        return SortedMail(message_id, InboundKind.auto_reply, from_email, subject, text[:20000], threaded,
                          (from_email,), intent=ReplyIntent.out_of_office, intent_source="headers")
    return SortedMail(message_id, InboundKind.reply, from_email, subject, text[:20000], threaded, (from_email,))


def process_inbound_mail(services: Services, raw: bytes, *, source: str, thread_id: str | None = None,
                         received_at: datetime | None = None) -> InboundView:
    """Record one inbound message once (by Message-ID) and act on it; a repeat returns the first result."""
    message = read_message(raw)
    mail = sort_mail(message, raw)
    earlier = _already_recorded(services.uow(), mail.message_id)
    if earlier is not None:
        return earlier
    if mail.kind is InboundKind.reply:
        intent, decided_by = classify_reply_intent(mail.text, llm=services.llm)
        mail = SortedMail(**{**mail.__dict__, "intent": intent, "intent_source": decided_by})
    view, owner_id = record_inbound(services.uow(), mail=mail, source=source, thread_id=thread_id,
                                    now=received_at or services.clock())
    if view.duplicate or view.kind != InboundKind.reply.value:
        return view
    if view.intent == ReplyIntent.interested.value and view.contact_id is not None:
        task = create_task(services.uow(), actor=SYSTEM, data=TaskInput(
            title=f"Interested reply from {view.from_email}: answer today", type=TaskType.email,
            description=view.text[:2000], assignee_id=owner_id, contact_id=view.contact_id,
            priority=TaskPriority.high, due_at=services.clock() + timedelta(hours=4)))
        view = view.model_copy(update={"task_id": task.id})
    _stamp_reply(services, view)
    log.info("inbound mail recorded", kind=view.kind, intent=view.intent, ledger_entry_id=view.ledger_entry_id)
    return view


def _stamp_reply(services: Services, view: InboundView) -> None:
    if view.ledger_entry_id is None or view.contact_id is None:
        return
    with services.uow() as uow:
        campaign_id = uow.session.scalar(select(SendLedgerEntry.campaign_id)
                                         .where(SendLedgerEntry.id == view.ledger_entry_id))
    if campaign_id is not None:
        with contextlib.suppress(SalesAgentError):  # the contact may have left the campaign meanwhile
            record_engagement(services.uow(), actor=SYSTEM, campaign_id=campaign_id, contact_id=view.contact_id,
                              event="replied", at=view.received_at)


def _already_recorded(uow: UnitOfWork, message_id: str) -> InboundView | None:
    with uow:
        row = uow.session.scalar(select(InboundMessage).where(InboundMessage.message_id == message_id))
        return None if row is None else InboundView.model_validate(row).model_copy(update={"duplicate": True})


def _match(session: Session, mail: SortedMail, thread_id: str | None) -> SendLedgerEntry | None:
    """In-Reply-To / References (and a report's original Message-ID), then the thread, then the address."""
    if mail.referenced_ids:
        rows = {e.message_id: e for e in session.scalars(
            select(SendLedgerEntry).where(SendLedgerEntry.message_id.in_(mail.referenced_ids)))}
        for wanted in mail.referenced_ids:
            if wanted in rows:
                return rows[wanted]
    if thread_id:
        found = session.scalar(select(SendLedgerEntry).where(SendLedgerEntry.thread_id == thread_id)
                               .order_by(SendLedgerEntry.sent_at.desc().nulls_last(), SendLedgerEntry.id.desc())
                               .limit(1))
        if found is not None:
            return found
    addresses = [a for a in mail.addresses if a]
    if not addresses:
        return None
    return session.scalar(select(SendLedgerEntry).where(
        SendLedgerEntry.to_email.in_(addresses), SendLedgerEntry.sent_at.is_not(None))
        .order_by(SendLedgerEntry.sent_at.desc(), SendLedgerEntry.id.desc()).limit(1))


def _suppress(session: Session, email: str, reason: SuppressionReason, detail: str) -> bool:
    email = email.strip().lower()
    if not email or session.scalar(select(Suppression.id).where(Suppression.email == email,
                                                                Suppression.reason == reason)) is not None:
        return False
    session.add(Suppression(email=email, reason=reason, detail=detail[:500]))
    audit.record(session, SYSTEM, "create", "suppression", email, {"reason": reason, "detail": detail[:500]})
    return True


_EVENT = {InboundKind.reply: EventType.reply, InboundKind.auto_reply: EventType.auto_reply,
          InboundKind.bounce: EventType.bounce, InboundKind.soft_bounce: EventType.soft_bounce,
          InboundKind.complaint: EventType.complaint}


def record_inbound(uow: UnitOfWork, *, mail: SortedMail, source: str, thread_id: str | None,
                   now: datetime) -> tuple[InboundView, int | None]:
    """One transaction: the inbound row, its event, suppressions, the soft-bounce retry and the notification.

    Returns the view and the user who owns the contact (for the follow-up task).
    """
    with uow:
        session = uow.session
        entry = _match(session, mail, thread_id)
        contact = session.get(Contact, entry.contact_id) if entry is not None and entry.contact_id else None
        if contact is None and mail.kind in (InboundKind.reply, InboundKind.auto_reply) and mail.from_email:
            contact = session.scalar(select(Contact).where(Contact.email == mail.from_email))
        kind = mail.kind
        if kind is InboundKind.reply and entry is None and contact is None:
            kind = InboundKind.unmatched
        row = InboundMessage(
            message_id=mail.message_id[:300], ledger_entry_id=entry.id if entry else None, kind=kind,
            from_email=mail.from_email[:320], subject=mail.subject, text=mail.text,
            intent=mail.intent.value if mail.intent else None, intent_source=mail.intent_source,
            sentiment=SENTIMENT[mail.intent] if mail.intent else None, status_code=mail.status_code,
            contact_id=contact.id if contact else None, source=source[:40], thread_id=thread_id, received_at=now)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:  # the same message arrived twice at once: the other writer recorded it
            session.rollback()
            return _already_recorded_in(session, mail.message_id), None
        suppressed = _act(session, mail, kind, row, entry, now)
        if kind in _EVENT:
            session.add(MessageEvent(ledger_entry_id=entry.id if entry else None, type=_EVENT[kind],
                                     detail=(mail.status_code or mail.intent or "")[:1000] or None, occurred_at=now))
        owner_id = (contact.owner_id if contact else None) or (entry.sender_id if entry else None)
        if kind is InboundKind.reply and mail.intent is ReplyIntent.interested:
            name = " ".join(p for p in (contact.first_name, contact.last_name) if p) if contact else ""
            session.add(Notification(user_id=owner_id, kind="interested_reply", inbound_message_id=row.id,
                                     contact_id=contact.id if contact else None, body=mail.text[:1000],
                                     title=f"{name or mail.from_email} is interested"))
        audit.record(session, SYSTEM, "create", "inbound_message", row.id,
                     {"kind": kind, "intent": row.intent, "ledger_entry_id": row.ledger_entry_id, "source": source})
        session.flush()
        view = InboundView.model_validate(row).model_copy(update={"suppressed": suppressed})
        uow.commit()
    return view, owner_id


def _already_recorded_in(session: Session, message_id: str) -> InboundView:
    row = session.scalar(select(InboundMessage).where(InboundMessage.message_id == message_id))
    assert row is not None
    return InboundView.model_validate(row).model_copy(update={"duplicate": True})


def _act(session: Session, mail: SortedMail, kind: InboundKind, row: InboundMessage,
         entry: SendLedgerEntry | None, now: datetime) -> list[str]:
    """Suppressions and the soft-bounce retry; returns "email (reason)" for each address newly suppressed."""
    suppressed: list[str] = []

    def suppress(email: str, reason: SuppressionReason, detail: str) -> None:
        if _suppress(session, email, reason, detail):
            suppressed.append(f"{email.strip().lower()} ({reason.value})")

    targets = list(mail.addresses) or ([entry.to_email] if entry else [])
    if kind is InboundKind.bounce:
        for email in targets:
            suppress(email, SuppressionReason.bounced, f"hard bounce {mail.status_code}: {mail.text}")
    elif kind is InboundKind.complaint:
        for email in {*(t for t in targets if t), *([entry.to_email] if entry else [])}:
            suppress(email, SuppressionReason.complained, f"{mail.text} report (ARF) on message {row.message_id}")
    elif kind is InboundKind.reply and mail.intent is ReplyIntent.unsubscribe_request:
        for email in {mail.from_email, *([entry.to_email] if entry else [])}:
            suppress(email, SuppressionReason.unsubscribed, "asked in a reply to be removed")
        session.add(MessageEvent(ledger_entry_id=entry.id if entry else None, type=EventType.unsubscribe,
                                 detail="reply", occurred_at=now))
    elif kind is InboundKind.soft_bounce and entry is not None:
        _soft_bounce(session, entry, mail, now)
    return suppressed


def _soft_bounce(session: Session, entry: SendLedgerEntry, mail: SortedMail, now: datetime) -> None:
    """Count it; a "failed" 4.x.x sends again later (the sweeper enqueues it when due), up to a limit."""
    entry.soft_bounces += 1
    before = entry.status
    if mail.retry_send and entry.status is SendStatus.sent:
        if entry.soft_bounces >= MAX_SOFT_BOUNCES:
            entry.status, entry.last_error = SendStatus.failed, f"gave up after {entry.soft_bounces} soft bounces"
        else:
            entry.status = SendStatus.pending
            entry.next_attempt_at = now + timedelta(hours=2 ** (entry.soft_bounces - 1))
            entry.enqueued_at = None
            entry.last_error = f"soft bounce {mail.status_code}: sending again later"
    audit.record(session, SYSTEM, "update", "send_ledger_entry", entry.id,
                 {"soft_bounces": entry.soft_bounces, "status": [before.value, entry.status.value]})

