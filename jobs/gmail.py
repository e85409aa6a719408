"""Gmail inbound tasks: the history sync a push enqueues, and the watch renewal with polling as fallback."""

from __future__ import annotations

import hashlib

from huey import crontab

from core.logging import get_logger
from core.mail.gmail_history import maintain_gmail_mailboxes, sync_mailbox_history
from jobs import huey_app
from jobs.huey_app import huey

log = get_logger(__name__)

maintenance_lock = huey.lock_task("gmail-mailbox-maintenance")


@huey.task(name="gmail_history_sync", retries=5, retry_delay=30)
def gmail_history_sync(email: str, history_id: int) -> int:
    """Take in the mailbox's new messages; safe to run twice (each message is recorded once)."""
    result = sync_mailbox_history(huey_app.services(), email=email)
    return 0 if result is None else result.recorded


def history_sync_task_id(email: str, history_id: int) -> str:
    return "gmail-history-" + hashlib.sha256(f"{email.lower()}:{history_id}".encode()).hexdigest()[:32]


def enqueue_history_sync(email: str, history_id: int) -> str:
    """Enqueue with an id derived from mailbox and historyId, so the same notification is the same task."""
    task_id = history_sync_task_id(email, history_id)
    gmail_history_sync(email, history_id, id=task_id)
    return task_id


@huey.periodic_task(crontab(minute="*/15"), name="gmail_maintain_mailboxes")
@maintenance_lock
def maintain_mailboxes() -> None:
    renewed, polled = maintain_gmail_mailboxes(huey_app.services())
    if renewed or polled:
        log.info("gmail mailboxes maintained", watches_renewed=renewed, polled=polled)


@huey.on_startup("gmail-mailbox-maintenance")
def clear_maintenance_lock_on_startup() -> None:
    # A consumer killed mid-run leaves the lock behind; the maintenance is idempotent.
    maintenance_lock.clear()
