"""HubSpot tasks: apply webhook events (enqueued by POST /webhooks/hubspot), sync runs, the poller, and our
sent emails and tasks on the HubSpot timeline."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from huey import crontab

from core.auth.actor import SYSTEM
from core.hubspot import sync, timeline, webhooks
from core.hubspot.service import sync_is_due
from core.logging import get_logger
from core.services import Services
from jobs import huey_app
from jobs.huey_app import huey

log = get_logger(__name__)

sync_lock = huey.lock_task("hubspot-sync")


def _connectors(services: Services) -> tuple[Any, Any]:
    return services.connectors.get("hubspot"), services.connectors.get("alerts")


@huey.task(name="hubspot_process_events", retries=5, retry_delay=30)
def process_hubspot_events(event_ids: list[int]) -> int:
    """Apply stored webhook events; safe to run twice (processed events are skipped)."""
    services = huey_app.services()
    crm, _ = _connectors(services)
    applied = webhooks.process_events(services.uow, crm, actor=SYSTEM, event_ids=event_ids)
    log.info("hubspot events applied", count=applied)
    return applied


def enqueue_events(event_ids: list[int]) -> str:
    """Enqueue with an id derived from the event ids, so a redelivered batch is the same task."""
    task_id = "hubspot-events-" + hashlib.sha256(",".join(map(str, sorted(event_ids))).encode()).hexdigest()[:32]
    process_hubspot_events(event_ids, id=task_id)
    return task_id


@huey.task(name="hubspot_sync")
@sync_lock
def sync_hubspot(full: bool = False) -> list[int]:
    """One sync run (pull then push per object type); failures are job rows plus a Slack alert."""
    services = huey_app.services()
    crm, alerts = _connectors(services)
    if crm is None:
        log.info("hubspot sync skipped: not connected")
        return []
    jobs = sync.sync_now(services.uow, crm, actor=SYSTEM, full=full, alerts=alerts)
    return [job.id for job in jobs]


@huey.periodic_task(crontab(minute="*"), name="hubspot_poll")
def poll_hubspot() -> None:
    """Every minute: run a sync when the configured frequency says one is due."""
    services = huey_app.services()
    if services.connectors.get("hubspot") is None or not sync_is_due(services.uow(), now=services.clock()):
        return
    sync_hubspot()


@huey.task(name="hubspot_log_email", retries=5, retry_delay=60)
def log_email_to_hubspot(draft_id: int) -> str | None:
    """A sent email as a note on its HubSpot contact; retried on HubSpot outages, never doubled."""
    services = huey_app.services()
    crm, _ = _connectors(services)
    if crm is None:
        return None
    entry = timeline.log_email_to_hubspot(services.uow, crm, actor=SYSTEM, draft_id=draft_id)
    return entry.status.value


@huey.task(name="hubspot_push_task", retries=5, retry_delay=60)
def push_task_to_hubspot(task_id: int) -> str | None:
    """One of our tasks as a HubSpot task on its contact; retried on HubSpot outages, never doubled."""
    services = huey_app.services()
    crm, _ = _connectors(services)
    if crm is None:
        return None
    entry = timeline.push_task_to_hubspot(services.uow, crm, actor=SYSTEM, task_id=task_id)
    return entry.status.value


def enqueue_email_log(draft_id: int) -> str:
    """What sending calls once a draft is sent (after its commit); one task id per draft."""
    task_id = f"hubspot-email-{draft_id}"
    log_email_to_hubspot(draft_id, id=task_id)
    return task_id


@huey.periodic_task(crontab(minute="*/5"), name="hubspot_push_new_tasks")
def push_new_tasks() -> int:
    """Every few minutes, put the tasks created on linked contacts onto their HubSpot timelines."""
    services = huey_app.services()
    if services.connectors.get("hubspot") is None:
        return 0
    since = services.clock() - timedelta(days=7)
    task_ids = timeline.tasks_awaiting_timeline(services.uow(), since=since)
    for task_id in task_ids:
        enqueue_task_push(task_id)
    return len(task_ids)


def enqueue_task_push(task_id: int) -> str:
    """What task creation calls (after its commit); one queue id per task."""
    queue_id = f"hubspot-task-{task_id}"
    push_task_to_hubspot(task_id, id=queue_id)
    return queue_id
