"""Research and proposal batches: a QueueJob row per batch, run with at most N model calls in flight.

Starting a batch writes the row (what to do, for whom); ``run_job`` does it. Worker threads research or draft
one entry each (short transactions of their own); the calling thread writes progress to the row as each entry
finishes, so a reloaded page reads where the batch stands and a failed entry keeps its reason.

A worker can die mid-batch. The row then stays ``running``; its signs of life are the run's ``started_at`` and
the writes its entries receive (an entry's ``updated_at``, its proposals' ``updated_at``). The sweeper puts a
running batch with no sign of life for ``stale_after()`` back to ``queued`` (``requeue_stale``, a conditional
UPDATE, so of two sweepers one wins) and the normal claim runs it again. The re-run starts after the entries
already finished: ``entry_ids`` keeps the finished ones first, in the order they finished, and ``done + failed``
says how many there are, so nothing finished is redone or counted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, or_, select, update

from core.audit import service as audit
from core.auth.actor import SYSTEM, Actor
from core.auth.login import load_actor
from core.auth.models import User
from core.auth.permissions import READ, UPDATE, require, require_owner
from core.config import Settings
from core.db import utcnow
from core.errors import NotFound, PermissionDenied, SalesAgentError, ValidationFailed
from core.logging import get_logger
from core.queue import work
from core.queue.models import QueueEntry, QueueJob, QueueJobKind, QueueJobStatus, QueueProposal, QueueStatus
from core.queue.schemas import JobView
from core.queue.service import RESOURCE, load_entry, move
from core.services import Services
from core.uow import UnitOfWork

MAX_BATCH = 2000
# A running batch with no sign of life for this long is taken to be dead. It must exceed the slowest entry:
# with the default settings one model call gives up after 4 attempts x 30 s plus at most 3 Retry-After waits
# of 60 s = 5 minutes, and an entry may make two calls (the redo of a fixable draft). stale_after() grows it
# when the model settings allow slower calls.
STALE_AFTER = timedelta(minutes=10)
log = get_logger(__name__)


def _start(uow: UnitOfWork, actor: Actor, kind: QueueJobKind, entry_ids: list[int], *, regenerate: bool = False,
           variants: int = 3) -> JobView:
    # write:queue is the gate; the batch then runs with the rep's own rights (research and drafting need "ai").
    require(actor, RESOURCE, UPDATE)
    ids = list(dict.fromkeys(entry_ids))
    if not ids:
        raise ValidationFailed("choose at least one queue entry")
    if len(ids) > MAX_BATCH:
        raise ValidationFailed(f"at most {MAX_BATCH} entries per batch")
    with uow:
        owners = set(uow.session.scalars(select(QueueEntry.owner_id).where(QueueEntry.id.in_(ids))))
        for owner in owners:
            require_owner(actor, "queue entries", owner)
        job = QueueJob(kind=kind, entry_ids=ids, total=len(ids), regenerate=regenerate, variants=variants,
                       created_by_id=actor.user_id, created_at=utcnow())
        uow.session.add(job)
        uow.session.flush()
        audit.record(uow.session, actor, "create", "queue_job", job.id,
                     {"kind": kind.value, "entries": len(ids), "regenerate": regenerate})
        view = JobView.model_validate(job)
        uow.commit()
    return view


def start_research(uow: UnitOfWork, *, actor: Actor, entry_ids: list[int]) -> JobView:
    return _start(uow, actor, QueueJobKind.research, entry_ids)


def start_proposals(uow: UnitOfWork, *, actor: Actor, entry_ids: list[int], variants: int = 3,
                    regenerate: bool = False) -> JobView:
    if not 1 <= variants <= 5:
        raise ValidationFailed("between one and five variants")
    return _start(uow, actor, QueueJobKind.propose, entry_ids, regenerate=regenerate, variants=variants)


def retry_entry(uow: UnitOfWork, *, actor: Actor, entry_id: int) -> JobView:
    """A failed entry goes back one step (ready when researched, else pending) and its work is started again."""
    require(actor, RESOURCE, UPDATE)
    with uow:
        entry = load_entry(uow.session, entry_id)
        require_owner(actor, "queue entries", entry.owner_id)
        if entry.status is not QueueStatus.failed:
            raise ValidationFailed(f"only failed entries are retried; this one is {entry.status.value}")
        researched = entry.research is not None
        move(uow.session, entry, QueueStatus.ready if researched else QueueStatus.pending, now=utcnow())
        audit.record(uow.session, actor, "update", "queue_entry", entry_id, {"retry": True})
        uow.commit()
    kind = QueueJobKind.propose if researched else QueueJobKind.research
    return _start(uow, actor, kind, [entry_id])


def get_job(uow: UnitOfWork, *, actor: Actor, job_id: int) -> JobView:
    require(actor, RESOURCE, READ)
    with uow:
        job = uow.session.get(QueueJob, job_id)
        if job is None:
            raise NotFound(f"queue job {job_id} not found")
        return JobView.model_validate(job)


def recent_jobs(uow: UnitOfWork, *, actor: Actor, limit: int = 5) -> list[JobView]:
    """The actor's latest batches, newest first (the page shows the running one with its progress)."""
    require(actor, RESOURCE, READ)
    with uow:
        rows = uow.session.scalars(select(QueueJob).where(QueueJob.created_by_id == actor.user_id)
                                   .order_by(QueueJob.id.desc()).limit(limit))
        return [JobView.model_validate(r) for r in rows]


# Running ----------------------------------------------------------------------------------------------

def _job_actor(services: Services, job: _Batch) -> Actor:
    """The batch runs as the rep who started it, with that rep's current rights."""
    with services.uow() as uow:
        user = uow.session.get(User, job.created_by_id) if job.created_by_id is not None else None
        if user is None:
            raise PermissionDenied(f"the user who started queue job {job.id} no longer exists")
        return load_actor(uow, user, via=f"queue_job:{job.id}")


@dataclass(frozen=True)
class _Batch:
    id: int
    kind: QueueJobKind
    entry_ids: list[int]
    regenerate: bool
    variants: int
    created_by_id: int | None


def _claim(services: Services, job_id: int) -> _Batch | None:
    """Queued -> running; the batch returned lists only the entries not yet finished (a resumed run)."""
    with services.uow() as uow:
        # A conditional UPDATE: of two deliveries of the same task, exactly one sees rowcount 1.
        claimed = uow.session.execute(
            update(QueueJob).where(QueueJob.id == job_id, QueueJob.status == QueueJobStatus.queued)
            .values(status=QueueJobStatus.running, started_at=services.clock()))
        uow.commit()
        if getattr(claimed, "rowcount", 0) != 1:
            return None  # a duplicate delivery of the task, or already finished
        job = uow.session.get(QueueJob, job_id)
        if job is None:
            return None
        remaining = [int(i) for i in job.entry_ids][job.done + job.failed:]
        return _Batch(job.id, job.kind, remaining, job.regenerate, job.variants, job.created_by_id)


def _progress(services: Services, job_id: int, entry_id: int, error: str | None) -> None:
    with services.uow() as uow:
        job = uow.session.get(QueueJob, job_id)
        if job is None:
            return
        ids, finished = [int(i) for i in job.entry_ids], job.done + job.failed
        if entry_id not in ids[finished:]:
            return  # already counted (a run that overlapped a resumed one): count each entry once
        # Finished entries first, in the order they finished: a resumed run starts after them.
        ids.remove(entry_id)
        ids.insert(finished, entry_id)
        job.entry_ids = ids
        if error is None:
            job.done += 1
        else:
            job.failed += 1
            job.errors = {**job.errors, str(entry_id): error}
        uow.commit()


def _finish(services: Services, job_id: int, status: QueueJobStatus, error: str | None = None) -> JobView:
    with services.uow() as uow:
        job = uow.session.get(QueueJob, job_id)
        if job is None:
            raise NotFound(f"queue job {job_id} not found")
        job.status, job.finished_at = status, services.clock()
        if error is not None:
            job.errors = {**job.errors, "job": error}
        uow.session.flush()
        view = JobView.model_validate(job)
        uow.commit()
    return view


def run_job(services: Services, job_id: int) -> JobView:
    """Do a queued batch; entries this batch already finished are skipped, others already done count as done."""
    job = _claim(services, job_id)
    if job is None:
        with services.uow() as uow:
            found = uow.session.get(QueueJob, job_id)
            if found is None:
                raise NotFound(f"queue job {job_id} not found")
            return JobView.model_validate(found)
    try:
        actor = _job_actor(services, job)
    except SalesAgentError as exc:
        return _finish(services, job_id, QueueJobStatus.failed, exc.message)
    step = _step(services, actor, job)
    workers = max(1, min(services.settings.queue_model_concurrency, len(job.entry_ids)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"queue-job-{job_id}") as pool:
        futures = {pool.submit(step, int(entry_id)): int(entry_id) for entry_id in job.entry_ids}
        for future in as_completed(futures):
            entry_id = futures[future]
            try:
                future.result()
                error = None
            except work.Unchanged:
                error = None
            except SalesAgentError as exc:
                error = exc.message
            except Exception as exc:  # one broken entry must not stop the batch; its reason is kept
                log.exception("queue job entry failed", job_id=job_id, entry_id=entry_id)
                error = f"unexpected error: {type(exc).__name__}"
            _progress(services, job_id, entry_id, error)
    return _finish(services, job_id, QueueJobStatus.done)


def _step(services: Services, actor: Actor, job: _Batch) -> Callable[[int], object]:
    if job.kind is QueueJobKind.research:
        return lambda entry_id: work.research_entry(services, actor=actor, entry_id=entry_id)
    return lambda entry_id: work.propose_for_entry(services, actor=actor, entry_id=entry_id,
                                                   variants=job.variants, regenerate=job.regenerate)


def queued_job_ids(services: Services, *, older_than: datetime, limit: int = 100) -> list[int]:
    """Batches still waiting since ``older_than``, for the sweeper (a lost task must not lose the batch)."""
    with services.uow() as uow:
        return list(uow.session.scalars(select(QueueJob.id).where(QueueJob.status == QueueJobStatus.queued,
                                                                  QueueJob.created_at < older_than)
                                        .order_by(QueueJob.id).limit(limit)))


# Dead batches -----------------------------------------------------------------------------------------

def stale_after(settings: Settings) -> timedelta:
    """STALE_AFTER, or twice the slowest model call the settings allow when that is longer."""
    from core.integrations.llm import MAX_RETRY_AFTER  # not at import time: it loads the openai client

    attempts = settings.openai_max_attempts
    slowest = attempts * settings.openai_timeout_seconds + (attempts - 1) * MAX_RETRY_AFTER
    return max(STALE_AFTER, timedelta(seconds=2 * slowest))


def _stale(job_ids: list[int], since: datetime) -> ColumnElement[bool]:
    """No entry of the batch, nor any of their proposals, was written since ``since``."""
    return ~or_(exists().where(QueueEntry.id.in_(job_ids), QueueEntry.updated_at >= since),
                exists().where(QueueProposal.entry_id.in_(job_ids), QueueProposal.updated_at >= since))


def stale_jobs(services: Services, *, older_than: datetime, limit: int = 100) -> list[tuple[int, datetime | None]]:
    """Running batches with no sign of life since ``older_than``: (id, the started_at read), for requeue_stale."""
    with services.uow() as uow:
        rows = uow.session.execute(
            select(QueueJob.id, QueueJob.started_at, QueueJob.entry_ids)
            .where(QueueJob.status == QueueJobStatus.running,
                   func.coalesce(QueueJob.started_at, QueueJob.created_at) < older_than)
            .order_by(QueueJob.id).limit(limit)).all()
        return [(job_id, started) for job_id, started, ids in rows
                if uow.session.scalar(select(_stale([int(i) for i in ids], older_than)))]


def requeue_stale(services: Services, job_id: int, *, seen_started_at: datetime | None,
                  older_than: datetime) -> bool:
    """Put a dead running batch back to queued, if it is still as it was read (one of two callers wins).

    Entries the dead run left in researching go to failed with the reason, so the re-run researches them again.
    """
    now = services.clock()
    with services.uow() as uow:
        session = uow.session
        job = session.get(QueueJob, job_id)
        if job is None or job.status is not QueueJobStatus.running:
            return False
        ids = [int(i) for i in job.entry_ids]
        started = (QueueJob.started_at.is_(None) if seen_started_at is None
                   else QueueJob.started_at == seen_started_at)
        claimed = session.execute(
            update(QueueJob).where(QueueJob.id == job_id, QueueJob.status == QueueJobStatus.running, started,
                                   _stale(ids, older_than))
            .values(status=QueueJobStatus.queued))
        if getattr(claimed, "rowcount", 0) != 1:
            return False  # another sweeper got there first, or the batch showed a sign of life
        reason = "research interrupted: the worker stopped; the batch runs it again"
        stuck = session.scalars(select(QueueEntry).where(QueueEntry.id.in_(ids[job.done + job.failed:]),
                                                         QueueEntry.status == QueueStatus.researching))
        for entry in stuck:
            move(session, entry, QueueStatus.failed, now=now, reason=reason)
            audit.record(session, SYSTEM, "update", "queue_entry", entry.id, {"status": "failed", "reason": reason})
        audit.record(session, SYSTEM, "update", "queue_job", job_id,
                     {"status": ["running", "queued"], "reason": "no sign of life", "finished": job.done + job.failed})
        uow.commit()
    log.warning("dead queue job requeued", job_id=job_id)
    return True


def requeue_stale_jobs(services: Services, *, older_than: datetime) -> list[int]:
    """Every dead running batch back to queued; the ids this caller requeued (for the sweeper to enqueue)."""
    return [job_id for job_id, started in stale_jobs(services, older_than=older_than)
            if requeue_stale(services, job_id, seen_started_at=started, older_than=older_than)]
