"""Sending tasks: one ledger entry per task (by id), look-ups of unknown outcomes, and the lease sweeper."""

from __future__ import annotations

import uuid

from huey import crontab

from core.logging import get_logger
from core.mail import ledger, pipeline
from core.mail.approval import actor_for_user, approve_and_queue
from jobs import huey_app
from jobs.huey_app import huey
from jobs.ops import worker_id

log = get_logger(__name__)

sweeper_lock = huey.lock_task("send-ledger-sweeper")


@huey.task(name="send_ledger_entry")
def send_ledger_entry(entry_id: int) -> str:
    """Send one ledger entry; the ledger, not this task, decides whether anything leaves."""
    services = huey_app.services()
    result = pipeline.deliver(services, entry_id, owner=f"{worker_id()}:{uuid.uuid4().hex[:8]}")
    if result.retry_at is not None:
        send_ledger_entry.schedule((entry_id,), eta=result.retry_at)
    elif result.outcome == "unknown":
        resolve_unknown_send.schedule((entry_id,), delay=10)
    elif result.outcome == "sent" and services.connectors.get("hubspot") is not None:
        draft_id = ledger.draft_of_entry(services.uow(), entry_id=entry_id)
        if draft_id is not None:
            from jobs.hubspot import enqueue_email_log  # the CRM timeline is optional; import only when used

            enqueue_email_log(draft_id)
    log.info("send task done", entry_id=entry_id, outcome=result.outcome)
    return result.outcome


@huey.task(name="approve_and_send_draft")
def approve_and_send_draft(draft_id: int, actor_user_id: int | None = None) -> int:
    """Approve a draft as the given user (the system when None), write its ledger row and send it."""
    services = huey_app.services()
    entry = approve_and_queue(services.uow(), actor=actor_for_user(services.uow(), actor_user_id), draft_id=draft_id)
    send_ledger_entry(entry.id)
    return entry.id


@huey.task(name="resolve_unknown_send")
def resolve_unknown_send(entry_id: int) -> str:
    outcome = pipeline.resolve_unknown(huey_app.services(), entry_id)
    if outcome == "requeued":
        send_ledger_entry(entry_id)
    return outcome


def sweep() -> tuple[int, int]:
    """Re-enqueue what the queue may have lost (a killed worker): the database says what must happen."""
    services = huey_app.services()
    result = ledger.sweep_send_ledger(services.uow(), now=services.clock())
    for entry_id in result.to_send:
        send_ledger_entry(entry_id)
    for entry_id in result.to_resolve:
        resolve_unknown_send(entry_id)
    return len(result.to_send), len(result.to_resolve)


@huey.periodic_task(crontab(minute="*"), name="sweep_send_ledger")
@sweeper_lock
def sweep_send_ledger() -> None:
    sent, resolved = sweep()
    if sent or resolved:
        log.info("send ledger swept", requeued=sent, lookups=resolved)


@huey.on_startup("sweep-send-ledger")
def clear_sweeper_lock_on_startup() -> None:
    # A consumer killed mid-sweep leaves the lock behind (no TTL in these storages); the sweep is idempotent.
    sweeper_lock.clear()
