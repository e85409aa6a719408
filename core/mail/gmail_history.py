"""Gmail inbound: history sync (what a push or a poll triggers), and keeping each mailbox's users.watch alive.

Each step reads what it needs in one short transaction, calls Gmail with none open, and records the result
in another. Every new message goes through ``process_inbound_mail``, which records it once per Message-ID,
so a sync that runs twice (a push and a poll at once) changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.audit import service as audit
from core.auth.actor import SYSTEM
from core.errors import ConnectorError
from core.integrations.gmail_inbox import GmailInbox, HistoryExpired
from core.logging import get_logger
from core.mail.gmail_models import GmailMailboxSync
from core.mail.inbound import process_inbound_mail
from core.mail.models import Mailbox, MailboxKind
from core.mail.secrets import decrypt_credentials
from core.services import Services

RENEW_BEFORE = timedelta(days=1)  # Gmail watches last 7 days; Google asks for renewal at least daily

log = get_logger(__name__)


@dataclass(frozen=True)
class HistorySyncResult:
    mailbox_id: int
    recorded: int  # inbound messages newly recorded (repeats not counted)
    history_id: int


def _inbox(services: Services, mailbox: Mailbox) -> GmailInbox:
    settings = services.settings
    secret = settings.google_client_secret.get_secret_value() if settings.google_client_secret else None
    return GmailInbox(token=decrypt_credentials(settings, mailbox.credentials_encrypted),
                      api_base=settings.gmail_api_base, client_id=settings.google_client_id, client_secret=secret)


def _load(services: Services, *, email: str | None = None,
          mailbox_id: int | None = None) -> tuple[int, GmailInbox, int | None] | None:
    with services.uow() as uow:
        query = select(Mailbox).where(Mailbox.kind == MailboxKind.gmail, Mailbox.active.is_(True))
        query = query.where(Mailbox.email == email.strip().lower()) if email else query.where(Mailbox.id == mailbox_id)
        mailbox = uow.session.scalar(query)
        if mailbox is None:
            return None
        state = uow.session.get(GmailMailboxSync, mailbox.id)
        return mailbox.id, _inbox(services, mailbox), state.history_id if state else None


def _save(services: Services, mailbox_id: int, *, history_id: int | None = None, watch_expires_at: datetime | None
          = None, error: str | None = None) -> None:
    with services.uow() as uow:
        state = uow.session.get(GmailMailboxSync, mailbox_id)
        if state is None:
            state = GmailMailboxSync(mailbox_id=mailbox_id)
            uow.session.add(state)
        if history_id is not None:  # only forward: a slower concurrent sync must not move the cursor back
            state.history_id = max(state.history_id or 0, history_id)
            state.last_synced_at = services.clock()
        if watch_expires_at is not None:
            state.watch_expires_at = watch_expires_at
        state.last_error = error[:1000] if error else None
        uow.commit()


def sync_mailbox_history(services: Services, *, email: str | None = None,
                         mailbox_id: int | None = None) -> HistorySyncResult | None:
    """Take in every message added to the mailbox since its stored historyId; None when it is not ours."""
    loaded = _load(services, email=email, mailbox_id=mailbox_id)
    if loaded is None:
        log.info("gmail history sync skipped: no active Gmail mailbox", email=email, mailbox_id=mailbox_id)
        return None
    box_id, inbox, cursor = loaded
    try:
        if cursor is None:  # first sync: nothing before now is "new"
            current = inbox.current_history_id()
            _save(services, box_id, history_id=current)
            return HistorySyncResult(box_id, 0, current)
        page = inbox.new_messages_since(cursor)
        recorded = 0
        for message in page.messages:
            raw = inbox.raw_message(message.id)
            view = process_inbound_mail(services, raw, source="gmail", thread_id=message.thread_id)
            recorded += 0 if view.duplicate else 1
    except HistoryExpired:
        # The cursor is older than Gmail's history: restart from now and say so (mail in the gap is not read).
        current = inbox.current_history_id()
        _save(services, box_id, history_id=current, error=f"history before {cursor} expired; restarted at {current}")
        log.warning("gmail history expired", mailbox_id=box_id, history_id=cursor)
        return HistorySyncResult(box_id, 0, current)
    except ConnectorError as exc:
        _save(services, box_id, error=str(exc))
        raise
    _save(services, box_id, history_id=page.history_id)
    log.info("gmail history synced", mailbox_id=box_id, recorded=recorded, history_id=page.history_id)
    return HistorySyncResult(box_id, recorded, page.history_id)


def _gmail_mailboxes(services: Services) -> list[tuple[int, datetime | None]]:
    with services.uow() as uow:
        rows = uow.session.execute(
            select(Mailbox.id, GmailMailboxSync.watch_expires_at)
            .outerjoin(GmailMailboxSync, GmailMailboxSync.mailbox_id == Mailbox.id)
            .where(Mailbox.kind == MailboxKind.gmail, Mailbox.active.is_(True)).order_by(Mailbox.id))
        return [(int(box_id), expires) for box_id, expires in rows]


def renew_watch(services: Services, mailbox_id: int, *, topic: str) -> datetime | None:
    """users.watch for one mailbox; stores the expiration (and a first cursor). None when Gmail refused."""
    loaded = _load(services, mailbox_id=mailbox_id)
    if loaded is None:
        return None
    _, inbox, cursor = loaded
    try:
        history_id, expiration_ms = inbox.watch(topic)
    except ConnectorError as exc:
        _save(services, mailbox_id, error=f"watch: {exc}")
        log.warning("gmail watch renewal failed", mailbox_id=mailbox_id, error=str(exc))
        return None
    expires = datetime.fromtimestamp(expiration_ms / 1000, UTC)
    _save(services, mailbox_id, history_id=history_id if cursor is None else None, watch_expires_at=expires)
    with services.uow() as uow:
        audit.record(uow.session, SYSTEM, "update", "mailbox", mailbox_id,
                     {"gmail_watch_expires_at": expires.isoformat()})
        uow.commit()
    return expires


def maintain_gmail_mailboxes(services: Services) -> tuple[int, int]:
    """Renew watches expiring within a day (when a topic is set), then poll every mailbox whose watch lapsed.

    Returns (watches renewed, mailboxes polled).
    """
    topic = services.settings.gmail_push_topic
    now = services.clock()
    renewed = polled = 0
    for box_id, expires in _gmail_mailboxes(services):
        if topic and (expires is None or expires - now < RENEW_BEFORE):
            new_expiry = renew_watch(services, box_id, topic=topic)
            renewed += new_expiry is not None
            expires = new_expiry or expires
        if expires is None or expires <= now:  # no live watch: no pushes will come, so look ourselves
            try:
                sync_mailbox_history(services, mailbox_id=box_id)
                polled += 1
            except ConnectorError as exc:
                log.warning("gmail history poll failed", mailbox_id=box_id, error=str(exc))
    return renewed, polled
