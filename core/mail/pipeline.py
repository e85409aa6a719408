"""One message through the ledger: claim → checks → transport → record, never a transaction across the call.

These orchestrate several short transactions and run as the system (the worker); jobs/sending.py calls them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core.auth.actor import SYSTEM
from core.campaigns.service import record_engagement
from core.errors import ConfigError, ConnectorError, SalesAgentError
from core.integrations.base import DeliveryOutcomeUnknown, SentMessage
from core.logging import get_logger
from core.mail import ledger
from core.mail.models import SendLedgerEntry, SendStatus
from core.mail.transports import transport_for
from core.services import Services

log = get_logger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str  # sent | retry | failed | unknown | deferred | refused | busy | lost_claim
    retry_at: datetime | None = None


def deliver(services: Services, entry_id: int, *, owner: str) -> DeliveryResult:
    now = services.clock()
    lease = timedelta(seconds=services.settings.send_lease_seconds)
    if not ledger.claim_send(services.uow(), entry_id=entry_id, owner=owner, now=now, lease=lease):
        return DeliveryResult("busy")
    prepared = ledger.prepare_send(services.uow(), settings=services.settings, entry_id=entry_id, owner=owner,
                                   now=services.clock())
    if prepared.message is None or prepared.connection is None:
        return DeliveryResult(prepared.outcome, prepared.retry_at)
    # The transport must give up well inside the lease, or the sweeper would call the send unknown.
    timeout = max(1.0, min(30.0, services.settings.send_lease_seconds / 3))
    try:
        transport = transport_for(services, prepared.connection, timeout=timeout)
        if prepared.connection.prefers_drafts:
            saved = transport.save_draft(prepared.message, thread_id=prepared.thread_id)
            sent = SentMessage("draft:" + saved.provider_message_id, saved.thread_id)
        else:
            sent = transport.send(prepared.message, thread_id=prepared.thread_id)
    except DeliveryOutcomeUnknown as exc:
        ledger.record_failure(services.uow(), entry_id=entry_id, owner=owner, error=exc.message, retryable=False,
                              unknown=True, now=services.clock())
        log.warning("send outcome unknown", entry_id=entry_id, error=exc.message)
        return DeliveryResult("unknown")
    except (ConnectorError, ConfigError) as exc:
        retryable = isinstance(exc, ConnectorError) and exc.retryable
        retry_after = exc.retry_after if isinstance(exc, ConnectorError) else None
        status, retry_at = ledger.record_failure(
            services.uow(), entry_id=entry_id, owner=owner, error=exc.message, retryable=retryable, unknown=False,
            now=services.clock(), retry_after=retry_after)
        return DeliveryResult("retry" if status is SendStatus.pending else status.value, retry_at)
    _after_sent(services, entry_id, owner=owner, sent=sent)
    return DeliveryResult("sent")


def _after_sent(services: Services, entry_id: int, *, owner: str | None, sent: SentMessage) -> None:
    recorded = ledger.record_sent(services.uow(), entry_id=entry_id, owner=owner,
                                  provider_message_id=sent.provider_message_id, thread_id=sent.thread_id,
                                  now=services.clock())
    if recorded is None or recorded.campaign_id is None or recorded.contact_id is None:
        return
    with contextlib.suppress(SalesAgentError):  # the contact may have left the campaign meanwhile
        record_engagement(services.uow(), actor=SYSTEM, campaign_id=recorded.campaign_id,
                          contact_id=recorded.contact_id, event="sent")


def resolve_unknown(services: Services, entry_id: int) -> str:
    """Look our Message-ID up in the mailbox: found → sent; long missing → send again; no search → a person."""
    with services.uow() as uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        if entry is None or entry.status is not SendStatus.unknown:
            return "nothing_to_do"
        message_id, since = entry.message_id, entry.updated_at
        connection = _connection(services, entry)
    transport = transport_for(services, connection)
    if not transport.can_look_up_sent:
        return "needs_review"
    try:
        found = transport.find_sent(message_id)
    except ConnectorError as exc:
        log.warning("look-up failed", entry_id=entry_id, error=exc.message)
        return "lookup_failed"
    if found is not None:
        _after_sent(services, entry_id, owner=None, sent=found)
        return "sent"
    # A search may lag a little behind a send: only a miss well after the hand-over means "not delivered".
    settle = ledger.unknown_settle(services.settings)
    if services.clock() - since >= settle:
        ledger.record_not_delivered(services.uow(), entry_id=entry_id, now=services.clock(),
                                    reason=f"not in the mailbox {settle.seconds} s later: sending again")
        return "requeued"
    return "still_unknown"


def _connection(services: Services, entry: SendLedgerEntry) -> ledger.MailboxConnection:
    from core.mail.secrets import decrypt_credentials

    mailbox = entry.mailbox
    return ledger.MailboxConnection(
        id=mailbox.id, kind=mailbox.kind.value, email=mailbox.email, smtp_host=mailbox.smtp_host,
        smtp_port=mailbox.smtp_port, smtp_security=mailbox.smtp_security.value, smtp_username=mailbox.smtp_username,
        credentials=decrypt_credentials(services.settings, mailbox.credentials_encrypted),
        prefers_drafts=mailbox.gmail_prefers_drafts)


def pending_entry_ids(services: Services, *, limit: int = 1000) -> list[int]:
    with services.uow() as uow:
        return list(uow.session.scalars(select(SendLedgerEntry.id).where(
            SendLedgerEntry.status == SendStatus.pending).order_by(SendLedgerEntry.id).limit(limit)))
