"""Research and proposal batches: a QueueJob row per batch, run with at most N model calls in flight.

Starting a batch writes the row (what to do, for whom); ``run_job`` does it. Worker threads research or draft
one entry each (short transactions of their own); the calling thread writes progress to the row as each entry
finishes, so a reloaded page reads where the batch stands and a failed entry keeps its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.login import load_actor
from core.auth.models import User
from core.auth.permissions import READ, UPDATE, require, require_owner
from core.db import utcnow
from core.errors import NotFound, PermissionDenied, SalesAgentError, ValidationFailed
from core.logging import get_logger
from core.queue import work
from core.queue.models import QueueEntry, QueueJob, QueueJobKind, QueueJobStatus, QueueStatus
from core.queue.schemas import JobView
from core.queue.service import RESOURCE, load_entry, move
from core.services import Services
from core.uow import UnitOfWork

MAX_BATCH = 2000
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
        return _Batch(job.id, job.kind, [int(i) for i in job.entry_ids], job.regenerate, job.variants,
                      job.created_by_id)


def _progress(services: Services, job_id: int, entry_id: int, error: str | None) -> None:
    with services.uow() as uow:
        job = uow.session.get(QueueJob, job_id)
        if job is None:
            return
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
    """Do a queued batch; entries already done are counted as done (re-running adds nothing)."""
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
