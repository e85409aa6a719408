"""A research or proposal batch whose worker died mid-run: the sweeper picks it up once its signs of life are
older than the stale threshold, the re-run skips what the dead run finished, and only one claimant wins."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import ModuleType

import pytest
from sqlalchemy import select, update

from core.ai.offline import OfflineComposer
from core.ai.schemas import DraftBatch, DraftRequest
from core.auth.actor import Actor
from core.queue import batches, service, work
from core.queue.models import QueueEntry, QueueJob, QueueJobStatus, QueueProposal, QueueStatus, QueueStatusChange
from core.queue.schemas import BulkInput
from core.services import Services, build_services
from tests import factories

LONG_AGO = timedelta(hours=1)


class WorkerDied(BaseException):
    """Stands for the worker process being killed: nothing in the batch catches it."""


class DiesWhileDrafting(OfflineComposer):
    """The offline composer, except that the process "dies" during the call for one contact."""

    def __init__(self, first_name: str) -> None:
        self._victim = first_name

    def draft_emails(self, request: DraftRequest) -> DraftBatch:
        if request.first_name == self._victim:
            time.sleep(0.5)  # a slow call: the entries finished before it are recorded by then
            raise WorkerDied
        return super().draft_emails(request)


@pytest.fixture
def sweep(services: Services, jobs: ModuleType) -> Iterator[ModuleType]:
    """jobs.queue with its tasks running inline against this test's database (real Huey, immediate mode)."""
    from jobs import huey_app
    from jobs import queue as queue_jobs

    with huey_app.running_against(services, huey_app.make_huey(services.settings)):
        yield queue_jobs


def _entries(services: Services, actor: Actor, *names: str) -> list[int]:
    company = factories.company(services, actor, industry="Logistics", employee_count=1800)
    ids = [factories.contact(services, actor, company_domain=company.domain, title="VP Operations",
                             first_name=name).id for name in names]
    return service.add_bulk(services.uow(), actor=actor, data=BulkInput(contact_ids=ids)).added


def _backdate(services: Services, job_id: int, entry_ids: list[int]) -> None:
    """What a dead worker leaves behind, seen an hour later: no write since."""
    past = services.clock() - LONG_AGO
    with services.uow() as uow:
        uow.session.execute(update(QueueJob).where(QueueJob.id == job_id).values(started_at=past))
        uow.session.execute(update(QueueEntry).where(QueueEntry.id.in_(entry_ids)).values(updated_at=past))
        uow.session.execute(update(QueueProposal).where(QueueProposal.entry_id.in_(entry_ids))
                            .values(updated_at=past))
        uow.commit()


def _proposals(services: Services, entry_id: int) -> list[tuple[int, datetime]]:
    """Each variant with when its row was written (SQLite reuses the ids of deleted rows)."""
    with services.uow() as uow:
        rows = uow.session.execute(select(QueueProposal.variant, QueueProposal.created_at)
                                   .where(QueueProposal.entry_id == entry_id).order_by(QueueProposal.variant))
        return [(variant, created) for variant, created in rows]


def test_dead_proposal_batch_is_resumed_by_the_sweeper_without_redoing_finished_entries(
        services: Services, rep: Actor, sweep: ModuleType) -> None:
    (unresearched,) = _entries(services, rep, "Una")
    ana, ben, cai = researched = _entries(services, rep, "Ana", "Ben", "Cai")
    batches.run_job(services, batches.start_research(services.uow(), actor=rep, entry_ids=researched).id)
    batches.run_job(services, batches.start_proposals(services.uow(), actor=rep, entry_ids=researched).id)
    first = {e: _proposals(services, e) for e in researched}

    job = batches.start_proposals(services.uow(), actor=rep, entry_ids=[unresearched, ana, ben, cai],
                                  regenerate=True)
    one_at_a_time = services.settings.model_copy(update={"queue_model_concurrency": 1})
    dying = build_services(one_at_a_time, engine=services.engine, llm=DiesWhileDrafting("Ben"))
    with pytest.raises(WorkerDied):
        batches.run_job(dying, job.id)
    dead = batches.get_job(services.uow(), actor=rep, job_id=job.id)
    assert (dead.status, dead.done, dead.failed) == (QueueJobStatus.running, 1, 1)
    assert _proposals(services, ana) != first[ana]  # Ana was regenerated before the worker died
    ana_regenerated = _proposals(services, ana)

    _backdate(services, job.id, [unresearched, ana, ben, cai])
    enqueued, _sent = sweep.sweep()

    assert enqueued == 1
    done = batches.get_job(services.uow(), actor=rep, job_id=job.id)
    assert (done.status, done.total, done.done, done.failed) == (QueueJobStatus.done, 4, 3, 1)
    assert list(done.errors) == [str(unresearched)]
    assert "only researched entries" in done.errors[str(unresearched)]
    assert _proposals(services, ana) == ana_regenerated  # finished before the death: not redone
    assert _proposals(services, ben) != first[ben]  # the entry the worker died on was done by the re-run
    for entry_id in researched:  # one set of variants each, never duplicates
        assert [v for v, _ in _proposals(services, entry_id)] == [1, 2, 3]
    assert sweep.sweep() == (0, 0)  # nothing left to pick up


def test_dead_research_batch_releases_the_entry_left_researching(services: Services, rep: Actor,
                                                                 sweep: ModuleType) -> None:
    ids = _entries(services, rep, "Dee", "Eli", "Fay")
    job = batches.start_research(services.uow(), actor=rep, entry_ids=ids)
    # The dead run: claimed, researched Dee and counted her, was researching Eli when it died.
    with services.uow() as uow:
        uow.session.execute(update(QueueJob).where(QueueJob.id == job.id)
                            .values(status=QueueJobStatus.running, started_at=services.clock(), done=1))
        uow.commit()
    work.research_entry(services, actor=rep, entry_id=ids[0])
    service.update_status(services.uow(), actor=rep, entry_id=ids[1], status=QueueStatus.researching)
    _backdate(services, job.id, ids)

    assert sweep.sweep() == (1, 0)

    done = batches.get_job(services.uow(), actor=rep, job_id=job.id)
    assert (done.status, done.done, done.failed) == (QueueJobStatus.done, 3, 0)
    for entry_id in ids:
        entry = service.get_entry(services.uow(), actor=rep, entry_id=entry_id)
        assert entry.status is QueueStatus.ready and entry.research is not None
    with services.uow() as uow:
        spells = uow.session.scalars(select(QueueStatusChange.entry_id)
                                     .where(QueueStatusChange.status == QueueStatus.researching)).all()
        interrupted = uow.session.scalars(select(QueueStatusChange.reason).where(
            QueueStatusChange.entry_id == ids[1], QueueStatusChange.status == QueueStatus.failed)).all()
    assert list(spells).count(ids[0]) == 1  # Dee was not researched again
    assert interrupted == ["research interrupted: the worker stopped; the batch runs it again"]


def test_running_batch_with_fresh_signs_of_life_is_left_alone(services: Services, rep: Actor,
                                                             sweep: ModuleType) -> None:
    just_started = batches.start_research(services.uow(), actor=rep, entry_ids=_entries(services, rep, "Gus"))
    busy_ids = _entries(services, rep, "Hal", "Ida")
    busy = batches.start_research(services.uow(), actor=rep, entry_ids=busy_ids)
    with services.uow() as uow:
        uow.session.execute(update(QueueJob).where(QueueJob.id.in_([just_started.id, busy.id]))
                            .values(status=QueueJobStatus.running, started_at=services.clock()))
        uow.commit()
    _backdate(services, busy.id, busy_ids)
    work.research_entry(services, actor=rep, entry_id=busy_ids[0])  # the live run just finished one entry

    assert sweep.sweep() == (0, 0)

    for job_id in (just_started.id, busy.id):
        view = batches.get_job(services.uow(), actor=rep, job_id=job_id)
        assert (view.status, view.done) == (QueueJobStatus.running, 0)
    # An hour from now, with nothing written in between, both count as dead.
    later = services.clock() + LONG_AGO
    assert [j for j, _ in batches.stale_jobs(services, older_than=later)] == [just_started.id, busy.id]


def test_two_concurrent_claims_of_a_dead_batch_only_one_wins(services: Services, rep: Actor) -> None:
    ids = _entries(services, rep, "Jo")
    job = batches.start_research(services.uow(), actor=rep, entry_ids=ids)
    with services.uow() as uow:
        uow.session.execute(update(QueueJob).where(QueueJob.id == job.id)
                            .values(status=QueueJobStatus.running, started_at=services.clock()))
        uow.commit()
    _backdate(services, job.id, ids)
    cutoff = services.clock() - batches.stale_after(services.settings)
    ((job_id, seen),) = batches.stale_jobs(services, older_than=cutoff)  # both sweepers read the same row

    start = threading.Barrier(2)
    won: list[bool] = []

    def claim() -> None:
        start.wait()
        won.append(batches.requeue_stale(services, job_id, seen_started_at=seen, older_than=cutoff))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False, True]

    ran = batches.run_job(services, job_id)  # the winner's task runs it
    assert (ran.status, ran.done) == (QueueJobStatus.done, 1)
    # A sweeper that read the row before all this cannot requeue the finished batch.
    assert not batches.requeue_stale(services, job_id, seen_started_at=seen, older_than=cutoff)
    assert batches.run_job(services, job_id).done == 1  # a late duplicate delivery does nothing


def test_stale_threshold_exceeds_the_slowest_model_call(services: Services) -> None:
    settings = services.settings
    slowest_call = settings.openai_max_attempts * settings.openai_timeout_seconds + (
        settings.openai_max_attempts - 1) * 60
    assert batches.stale_after(settings) >= batches.STALE_AFTER > timedelta(seconds=slowest_call)
    patient = settings.model_copy(update={"openai_timeout_seconds": 300.0})
    assert batches.stale_after(patient) > timedelta(seconds=4 * 300)
