"""Contact-queue tasks: research and proposal batches (by QueueJob id), sending approved entries, the sweeper."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab

from core.auth.actor import SYSTEM
from core.logging import get_logger
from core.queue import batches, review
from core.queue.schemas import ApprovalResult, JobView
from jobs import huey_app
from jobs.huey_app import huey
from jobs.sending import send_ledger_entry

log = get_logger(__name__)

sweeper_lock = huey.lock_task("queue-sweeper")
LOST_AFTER = timedelta(minutes=2)


@huey.task(name="run_queue_job")
def run_queue_job(job_id: int) -> str:
    """Research or draft every entry of the batch; progress and per-entry errors land on the job row."""
    view = batches.run_job(huey_app.services(), job_id)
    log.info("queue job done", job_id=job_id, kind=view.kind.value, done=view.done, failed=view.failed)
    return view.status.value


def enqueue(job: JobView) -> JobView:
    """Hand a started batch to the worker (immediate mode runs it here and now)."""
    run_queue_job(job.id)
    return job


def send_approved(result: ApprovalResult) -> None:
    """After approval: send through the ledger when a mailbox took it, then mark the entry sent if it went."""
    if result.send_ledger_id is None:
        return
    send_ledger_entry(result.send_ledger_id)
    if huey.immediate:  # the send already ran inline; otherwise the sweeper notices it within a minute
        review.mark_sent_entries(huey_app.services().uow(), actor=SYSTEM, entry_ids=[result.entry_id])


def sweep() -> tuple[int, int]:
    """Re-enqueue batches whose task was lost or whose worker died mid-run (running with no sign of life for
    batches.stale_after()), and move entries whose mail went out to sent. Returns (batches enqueued, sent)."""
    services = huey_app.services()
    now = services.clock()
    dead = batches.requeue_stale_jobs(services, older_than=now - batches.stale_after(services.settings))
    lost = batches.queued_job_ids(services, older_than=now - LOST_AFTER)
    enqueue_ids = list(dict.fromkeys([*dead, *lost]))
    for job_id in enqueue_ids:
        run_queue_job(job_id)
    sent = review.mark_sent_entries(services.uow(), actor=SYSTEM)
    return len(enqueue_ids), len(sent)


@huey.periodic_task(crontab(minute="*"), name="sweep_contact_queue")
@sweeper_lock
def sweep_contact_queue() -> None:
    lost, sent = sweep()
    if lost or sent:
        log.info("contact queue swept", requeued_jobs=lost, marked_sent=sent)


@huey.on_startup("sweep-contact-queue")
def clear_sweeper_lock_on_startup() -> None:
    # A consumer killed mid-sweep leaves the lock behind; the sweep is idempotent.
    sweeper_lock.clear()
