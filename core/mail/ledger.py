"""The send ledger's transactions: queue, claim with a lease, prepare (checks + build), record the outcome.

Each function is one short transaction; the call to the provider happens between them (core.mail.pipeline).
Claims are plain ``UPDATE … WHERE status … RETURNING``-free statements, so they are atomic on SQLite and
PostgreSQL alike: exactly one worker sees rowcount 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update

from core.audit import service as audit
from core.auth.actor import SYSTEM, Actor
from core.auth.permissions import CREATE, UPDATE, require
from core.config import Settings
from core.content.models import DRAFT_TRANSITIONS, Draft, DraftStatus
from core.crm.models import Suppression
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.mail.building import Envelope, Tracking, build_message, check_can_spam_compliance
from core.mail.models import CampaignTracking, Mailbox, SendLedgerEntry, SendStatus, TrackedLink
from core.mail.schemas import LedgerEntryView
from core.mail.secrets import decrypt_credentials, new_opaque_id, unsubscribe_token
from core.uow import UnitOfWork

MAX_ATTEMPTS = 6
IN_FLIGHT = (SendStatus.sending, SendStatus.unknown)


def unknown_settle(settings: Settings) -> timedelta:
    """How long an unknown outcome must rest before "not delivered" may be concluded.

    A slow worker or a slow server may still complete the hand-over after the lease ran out; concluding
    earlier and sending again is exactly the duplicate the ledger exists to prevent.
    """
    return timedelta(seconds=max(10, 2 * settings.send_lease_seconds))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def queue_approved_draft_for_sending(
    uow: UnitOfWork, *, actor: Actor, draft_id: int, mailbox_id: int | None = None,
    follow_up_of: int | None = None,
) -> LedgerEntryView:
    """Write the ledger row for an approved draft (once: a second call returns the same row)."""
    require(actor, "sending", CREATE)
    with uow:
        session = uow.session
        draft = session.get(Draft, draft_id)
        if draft is None:
            raise NotFound(f"draft {draft_id} not found")
        existing = session.scalar(select(SendLedgerEntry).where(SendLedgerEntry.draft_id == draft_id))
        if existing is not None:
            return LedgerEntryView.model_validate(existing)
        if draft.status not in (DraftStatus.approved, DraftStatus.scheduled):
            raise InvalidTransition(f"only approved drafts are sent; this one is {draft.status.value}")
        entry = add_ledger_entry(uow, actor=actor, draft=draft, mailbox_id=mailbox_id, follow_up_of=follow_up_of)
        view = LedgerEntryView.model_validate(entry)
        uow.commit()
    return view


def add_ledger_entry(uow: UnitOfWork, *, actor: Actor, draft: Draft, mailbox_id: int | None,
                     follow_up_of: int | None) -> SendLedgerEntry:
    """The ledger row of an approved draft, inside the caller's transaction (audited)."""
    require(actor, "sending", CREATE)
    session = uow.session
    mailbox = _choose_mailbox(uow, mailbox_id, draft.approved_by_id or draft.created_by_id)
    entry = SendLedgerEntry(
        draft_id=draft.id, mailbox_id=mailbox.id, contact_id=draft.contact_id, campaign_id=draft.campaign_id,
        sender_id=mailbox.owner_id or draft.created_by_id, to_email=draft.to_email, subject=draft.subject,
        body=draft.body, message_id=make_msgid(domain=mailbox.email.rpartition("@")[2]),
        open_token=new_opaque_id(), next_attempt_at=draft.scheduled_at or datetime.now(UTC))
    if follow_up_of is not None:
        earlier = session.get(SendLedgerEntry, follow_up_of)
        if earlier is None or earlier.status is not SendStatus.sent:
            raise ValidationFailed("a follow-up must answer a message that was sent")
        entry.is_follow_up, entry.in_reply_to, entry.thread_id = True, earlier.message_id, earlier.thread_id
        entry.references = " ".join(p for p in (earlier.references, earlier.message_id) if p)
    session.add(entry)
    session.flush()
    audit.record(session, actor, "create", "send_ledger_entry", entry.id,
                 {"draft_id": draft.id, "mailbox_id": mailbox.id, "to_email": entry.to_email})
    return entry


def _choose_mailbox(uow: UnitOfWork, mailbox_id: int | None, user_id: int | None) -> Mailbox:
    query = select(Mailbox).where(Mailbox.active.is_(True)).order_by(Mailbox.id)
    if mailbox_id is not None:
        query = query.where(Mailbox.id == mailbox_id)
    candidates = list(uow.session.scalars(query))
    if not candidates:
        raise ValidationFailed("no active mailbox to send from: connect one first")
    owned = [m for m in candidates if user_id is not None and m.owner_id == user_id]
    return (owned or candidates)[0]


def claim_send(uow: UnitOfWork, *, entry_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """Take the entry for ``lease`` if it is due and nobody holds it; True when this caller got it."""
    table = SendLedgerEntry
    with uow:
        result = uow.session.execute(
            update(table)
            .where(table.id == entry_id,
                   or_(and_(table.status == SendStatus.pending, table.next_attempt_at <= now),
                       and_(table.status == SendStatus.claimed, table.lease_expires_at < now)))
            .values(status=SendStatus.claimed, lease_owner=owner, lease_expires_at=now + lease,
                    attempts=table.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        uow.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


@dataclass(frozen=True)
class MailboxConnection:
    """What a transport needs of a mailbox, decrypted, read inside the transaction and used outside it."""

    id: int
    kind: str
    email: str
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    credentials: dict[str, Any] = field(default_factory=dict, repr=False)
    prefers_drafts: bool = False


@dataclass(frozen=True)
class PreparedSend:
    message: EmailMessage | None  # None: not sent now, see ``outcome``
    outcome: str
    connection: MailboxConnection | None = None
    thread_id: str | None = None
    retry_at: datetime | None = None


def _next_window(mailbox: Mailbox, now: datetime) -> datetime | None:
    """None inside the mailbox's send window, else when it next opens."""
    zone = ZoneInfo(mailbox.timezone)
    local = now.astimezone(zone)
    if mailbox.window_start_hour <= local.hour < mailbox.window_end_hour:
        return None
    day = local.date() if local.hour < mailbox.window_start_hour else local.date() + timedelta(days=1)
    return datetime.combine(day, time(mailbox.window_start_hour), zone).astimezone(UTC)


def _sent_today(uow: UnitOfWork, mailbox: Mailbox, now: datetime) -> int:
    zone = ZoneInfo(mailbox.timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), zone).astimezone(UTC)
    table = SendLedgerEntry
    count = uow.session.scalar(select(func.count()).select_from(table).where(
        table.mailbox_id == mailbox.id,
        or_(and_(table.status == SendStatus.sent, table.sent_at >= midnight), table.status.in_(IN_FLIGHT))))
    return int(count or 0)


def public_links(settings: Settings, entry: SendLedgerEntry) -> tuple[str, str]:
    base = settings.public_base_url
    return f"{base}/u/{unsubscribe_token(settings, entry.id)}", f"{base}/o/{entry.open_token}.gif"


def compose(uow: UnitOfWork, settings: Settings, entry: SendLedgerEntry, mailbox: Mailbox) -> EmailMessage:
    """The message for an entry, creating its tracked links (once: reused on a retry)."""
    tracking_row = uow.session.get(CampaignTracking, entry.campaign_id) if entry.campaign_id else None
    tracking = Tracking(opens=tracking_row.track_opens, clicks=tracking_row.track_clicks,
                        plain_text_only=tracking_row.plain_text_only) if tracking_row else Tracking()
    links = {link.url: link.token for link in uow.session.scalars(
        select(TrackedLink).where(TrackedLink.ledger_entry_id == entry.id))}

    def tracked(url: str) -> str:
        if url not in links:
            links[url] = new_opaque_id()
            uow.session.add(TrackedLink(token=links[url], ledger_entry_id=entry.id, url=url[:2000]))
        return f"{settings.public_base_url}/c/{links[url]}"

    unsubscribe_url, pixel_url = public_links(settings, entry)
    envelope = Envelope(from_email=mailbox.email, from_name=mailbox.from_name, to_email=entry.to_email,
                        subject=entry.subject, body=entry.body, message_id=entry.message_id,
                        signature=mailbox.signature,
                        postal_address=mailbox.postal_address or settings.default_postal_address,
                        in_reply_to=entry.in_reply_to, references=entry.references)
    return build_message(envelope, unsubscribe_url=unsubscribe_url, tracking=tracking, tracked_link=tracked,
                         pixel_url=pixel_url)


def _release(entry: SendLedgerEntry, *, status: SendStatus, error: str | None, retry_at: datetime | None) -> None:
    entry.status, entry.last_error = status, error[:1000] if error else None
    entry.lease_owner, entry.lease_expires_at = None, None
    if retry_at is not None:
        entry.next_attempt_at = retry_at


def prepare_send(uow: UnitOfWork, *, settings: Settings, entry_id: int, owner: str, now: datetime) -> PreparedSend:
    """Checks at claim time (suppression, mailbox, window, cap, compliance), then ``sending`` and the message."""
    with uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        if entry is None or entry.status is not SendStatus.claimed or entry.lease_owner != owner:
            return PreparedSend(None, "lost_claim")
        mailbox = entry.mailbox
        suppressed = uow.session.scalar(select(Suppression.reason).where(Suppression.email == entry.to_email))
        refusal = None
        if suppressed is not None:
            refusal = f"suppressed ({suppressed.value}): never sent"
        elif not mailbox.active:
            refusal = f"mailbox {mailbox.email} is switched off"
        if refusal:
            _release(entry, status=SendStatus.failed, error=refusal, retry_at=None)
            uow.commit()
            return PreparedSend(None, "refused")
        opens_at = _next_window(mailbox, now)
        if opens_at is None and _sent_today(uow, mailbox, now) >= mailbox.daily_cap:
            tomorrow = datetime.combine(now.astimezone(ZoneInfo(mailbox.timezone)).date() + timedelta(days=1),
                                        time(mailbox.window_start_hour), ZoneInfo(mailbox.timezone))
            opens_at = tomorrow.astimezone(UTC)
        if opens_at is not None:
            entry.attempts -= 1  # waiting for the window or the cap is not a failed attempt
            _release(entry, status=SendStatus.pending, error=None, retry_at=opens_at)
            uow.commit()
            return PreparedSend(None, "deferred", retry_at=opens_at)
        message = compose(uow, settings, entry, mailbox)
        report = check_can_spam_compliance(message)
        if not report.compliant:
            _release(entry, status=SendStatus.failed, error="not compliant: " + "; ".join(report.problems),
                     retry_at=None)
            uow.commit()
            return PreparedSend(None, "refused")
        entry.status = SendStatus.sending
        connection = MailboxConnection(
            id=mailbox.id, kind=mailbox.kind.value, email=mailbox.email, smtp_host=mailbox.smtp_host,
            smtp_port=mailbox.smtp_port, smtp_security=mailbox.smtp_security.value,
            smtp_username=mailbox.smtp_username,
            credentials=decrypt_credentials(settings, mailbox.credentials_encrypted),
            prefers_drafts=mailbox.gmail_prefers_drafts)
        thread_id = entry.thread_id
        uow.commit()
    return PreparedSend(message, "ready", connection=connection, thread_id=thread_id)


def record_sent(uow: UnitOfWork, *, entry_id: int, owner: str | None, provider_message_id: str,
                thread_id: str | None, now: datetime) -> LedgerEntryView | None:
    """Mark sent (from sending, or from unknown once resolved) and move its draft to sent, in one transaction."""
    with uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        mine = entry is not None and entry.status is SendStatus.sending and entry.lease_owner == owner
        if entry is None or not (mine or entry.status is SendStatus.unknown):
            return None
        entry.provider_message_id, entry.thread_id = provider_message_id[:200], thread_id or entry.thread_id
        entry.sent_at = now
        _release(entry, status=SendStatus.sent, error=None, retry_at=None)
        draft = uow.session.get(Draft, entry.draft_id) if entry.draft_id else None
        # The same rule transition_draft enforces; done here so ledger and draft agree in one commit.
        if draft is not None and DraftStatus.sent in DRAFT_TRANSITIONS[draft.status]:
            draft.status, draft.sent_at = DraftStatus.sent, now
            audit.record(uow.session, SYSTEM, "update", "draft", draft.id, audit.changes_of(draft))
        uow.session.flush()
        view = LedgerEntryView.model_validate(entry)
        uow.commit()
    return view


def record_failure(uow: UnitOfWork, *, entry_id: int, owner: str, error: str, retryable: bool, unknown: bool,
                   now: datetime, retry_after: float | None = None) -> tuple[SendStatus, datetime | None]:
    """Transient → pending with backoff (failed after MAX_ATTEMPTS); permanent → failed; ambiguous → unknown."""
    with uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        if entry is None or entry.lease_owner != owner or entry.status is not SendStatus.sending:
            return SendStatus.unknown, None
        retry_at = None
        if unknown:
            status = SendStatus.unknown
            entry.lease_owner, entry.lease_expires_at, entry.last_error = None, None, error[:1000]
            entry.status = status
        elif retryable and entry.attempts < MAX_ATTEMPTS:
            status = SendStatus.pending
            delay = max(backoff(entry.attempts), timedelta(seconds=retry_after or 0))
            retry_at = now + delay
            _release(entry, status=status, error=error, retry_at=retry_at)
        else:
            status = SendStatus.failed
            _release(entry, status=status, error=error, retry_at=None)
        uow.commit()
    return status, retry_at


def record_not_delivered(uow: UnitOfWork, *, entry_id: int, reason: str, now: datetime) -> bool:
    """An unknown entry shown not to have left (look-up found nothing, or a person checked): send again."""
    with uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        if entry is None or entry.status is not SendStatus.unknown:
            return False
        _release(entry, status=SendStatus.pending, error=reason, retry_at=now)
        uow.commit()
    return True


def review_unknown_send(uow: UnitOfWork, *, actor: Actor, settings: Settings, entry_id: int, delivered: bool,
                        provider_message_id: str | None = None) -> LedgerEntryView:
    """A person settles an unknown outcome the provider cannot be searched for (plain SMTP)."""
    require(actor, "sending", UPDATE)
    with uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        if entry is None:
            raise NotFound(f"send {entry_id} not found")
        if entry.status is not SendStatus.unknown:
            raise InvalidTransition(f"only an unknown outcome can be reviewed; this one is {entry.status.value}")
        wait = entry.updated_at + unknown_settle(settings) - datetime.now(UTC)
        if not delivered and wait > timedelta(0):
            raise Conflict(f"the hand-over may still complete: check the mailbox again in {wait.seconds + 1} s")
        if delivered:
            entry.provider_message_id = provider_message_id or entry.message_id
            entry.sent_at = datetime.now(UTC)
            _release(entry, status=SendStatus.sent, error=None, retry_at=None)
        else:
            _release(entry, status=SendStatus.pending, error="checked by hand: not delivered",
                     retry_at=datetime.now(UTC))
        audit.record(uow.session, actor, "update", "send_ledger_entry", entry.id,
                     {"status": ["unknown", entry.status.value], "reviewed": True})
        uow.session.flush()
        view = LedgerEntryView.model_validate(entry)
        uow.commit()
    return view


@dataclass(frozen=True)
class SweepResult:
    to_send: list[int]
    to_resolve: list[int]


def sweep_send_ledger(uow: UnitOfWork, *, now: datetime, pending_grace: timedelta = timedelta(minutes=10),
                      limit: int = 1000) -> SweepResult:
    """Take back expired leases: claimed → pending (send again), sending → unknown (look it up, never resend).

    A killed worker loses only the tasks it was running, and those hold a lease; a pending row is enqueued
    again only when its last task is ``pending_grace`` old (lost between dequeue and claim, or a wiped queue).
    """
    table = SendLedgerEntry
    with uow:
        session = uow.session
        expired = list(session.scalars(select(table.id).where(
            table.status == SendStatus.claimed, table.lease_expires_at < now).limit(limit)))
        if expired:
            session.execute(update(table).where(table.id.in_(expired), table.status == SendStatus.claimed)
                            .values(status=SendStatus.pending, lease_owner=None, lease_expires_at=None,
                                    enqueued_at=now)
                            .execution_options(synchronize_session=False))
        session.execute(update(table).where(table.status == SendStatus.sending, table.lease_expires_at < now)
                        .values(status=SendStatus.unknown, lease_owner=None, lease_expires_at=None,
                                last_error="worker stopped while handing the message over")
                        .execution_options(synchronize_session=False))
        stale = list(session.scalars(select(table.id).where(
            table.status == SendStatus.pending, table.next_attempt_at <= now,
            or_(table.enqueued_at.is_(None), table.enqueued_at <= now - pending_grace))
            .order_by(table.id).limit(limit)))
        if stale:
            session.execute(update(table).where(table.id.in_(stale)).values(enqueued_at=now)
                            .execution_options(synchronize_session=False))
        to_resolve = list(session.scalars(select(table.id).where(table.status == SendStatus.unknown)
                                          .order_by(table.id).limit(limit)))
        uow.commit()
    return SweepResult(to_send=sorted(set(expired) | set(stale)), to_resolve=to_resolve)


def draft_of_entry(uow: UnitOfWork, *, entry_id: int) -> int | None:
    """The draft a ledger entry sends (worker bookkeeping after delivery; reveals no data to a user)."""
    with uow:
        return uow.session.scalar(select(SendLedgerEntry.draft_id).where(SendLedgerEntry.id == entry_id))
