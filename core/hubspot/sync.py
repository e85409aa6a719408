"""Sync runs: full import, incremental polling, pushing our changes. Each run is a job row.

No transaction is open while HubSpot is called: a run reads what it needs and commits, calls HubSpot, then
records the result (and its progress cursor) in a second short transaction. A run that fails keeps its
cursor, so the next run resumes where it stopped and loses nothing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.auth.actor import Actor
from core.auth.permissions import READ, UPDATE, require
from core.db import utcnow
from core.errors import ConnectorError
from core.hubspot.engine import Applied, Changes, SyncPlan, apply_changes, snapshot_changes
from core.hubspot.mapping import KEY_FIELD
from core.hubspot.models import HubSpotSyncError, HubSpotSyncJob, JobKind, JobStatus, ObjectType
from core.hubspot.push import PendingPush, claim_pushes, company_pairs, record_pushes
from core.hubspot.schemas import SyncJobView
from core.hubspot.service import RESOURCE, plan_of, setting_row
from core.integrations.base import AlertChannel, CRMConnector, CRMRecord
from core.logging import get_logger
from core.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
Progress = Callable[[int, int | None], None]  # (records done, total when known)
log = get_logger(__name__)


def _start(uows: UowFactory, actor: Actor, kind: JobKind, object_type: ObjectType) -> tuple[int, SyncPlan]:
    with uows() as uow:
        job = HubSpotSyncJob(kind=kind, object_type=object_type, status=JobStatus.running, triggered_by=actor.label)
        uow.session.add(job)
        plan = plan_of(setting_row(uow.session, object_type))
        uow.session.flush()
        job_id = job.id
        uow.commit()
    return job_id, plan


def _record_page(uows: UowFactory, actor: Actor, job_id: int, plan: SyncPlan, batch: dict[str, Changes], *,
                 summarise: bool = False, companies: dict[str, list[str]] | None = None,
                 **cursor: object) -> Applied:
    """Apply one page of HubSpot records and advance the job and cursor, all in one transaction."""
    with uows() as uow:
        applied = apply_changes(uow.session, actor, plan, batch, companies=companies,
                                audit_summary={"job_id": job_id} if summarise else None)
        job = uow.session.get(HubSpotSyncJob, job_id)
        assert job is not None
        job.records_synced += applied.synced
        add_errors(uow, job, plan.object_type, applied.errors)
        row = setting_row(uow.session, plan.object_type)
        for name, value in cursor.items():
            setattr(row, name, value)
        uow.commit()
    return applied


def add_errors(uow: UnitOfWork, job: HubSpotSyncJob, object_type: ObjectType, errors: list[tuple[str, str]]) -> None:
    for hubspot_id, message in errors:
        uow.session.add(HubSpotSyncError(job_id=job.id, object_type=object_type, hubspot_id=hubspot_id,
                                         message=message[:2000]))
    job.error_count += len(errors)


def _finish(uows: UowFactory, job_id: int, *, error: Exception | None, alerts: AlertChannel | None) -> SyncJobView:
    with uows() as uow:
        job = uow.session.get(HubSpotSyncJob, job_id)
        assert job is not None
        job.status = JobStatus.failed if error else JobStatus.succeeded
        job.completed_at = utcnow()
        if error is not None:
            job.message = str(error)[:2000]
        view = SyncJobView.model_validate(job)
        uow.commit()
    if error is not None:
        log.warning("hubspot sync job failed", job_id=job_id, error=str(error))
        if alerts is not None:
            try:
                alerts.notify(f":warning: HubSpot {view.kind.value} sync of {view.object_type.value}s failed "
                              f"(job {view.id}, {view.records_synced} records synced): {view.message}")
            except ConnectorError as exc:  # the job's failure is recorded; a lost alert must not hide it
                log.warning("sync alert not delivered", error=exc.message)
    return view


def _batch_of(records: list[CRMRecord]) -> dict[str, Changes]:
    return {r.id: snapshot_changes(r) for r in records}


@dataclass(frozen=True)
class ImportPage:
    records: list[CRMRecord]
    after: str | None
    companies: dict[str, list[str]]  # contact id -> associated company ids (contacts only)


def _companies_of(crm: CRMConnector, plan: SyncPlan, records: list[CRMRecord]) -> dict[str, list[str]]:
    if plan.object_type is not ObjectType.contact or not records:
        return {}
    return crm.companies_of_contacts([r.id for r in records])


class PageReader:
    """Reads the next pages in a thread while the current ones are written (at most ``depth`` ahead), so the
    import runs at HubSpot's request quota instead of waiting on our database between requests; pages that
    piled up meanwhile are written together, one transaction for several pages."""

    def __init__(self, crm: CRMConnector, plan: SyncPlan, after: str | None, *, depth: int = 4,
                 most: int = 4) -> None:
        self.most = most
        self._failed: BaseException | None = None
        self._pages: queue.Queue[ImportPage | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(crm, plan, after), daemon=True,
                                        name="hubspot-page-reader")
        self._thread.start()

    def _read(self, crm: CRMConnector, plan: SyncPlan, after: str | None) -> None:
        try:
            while not self._stop.is_set():
                listed = crm.list_page(plan.hubspot_type, properties=plan.properties(), after=after)
                page = ImportPage(listed.records, listed.after, _companies_of(crm, plan, listed.records))
                self._put(page)
                if page.after is None:
                    return
                after = page.after
        except BaseException as exc:  # handed to the writer, which fails the job with it
            self._put(exc)

    def _put(self, item: ImportPage | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[list[ImportPage]]:
        """Runs of pages: the next one, plus any others already read (up to ``most``) when writing fell behind."""
        while True:
            run = [self._wait()]
            while run[-1].after is not None and len(run) < self.most and (page := self._ready()) is not None:
                run.append(page)
            yield run
            if run[-1].after is None:
                return

    def _wait(self) -> ImportPage:
        while self._failed is None:
            try:
                item = self._pages.get(timeout=0.5)
            except queue.Empty:
                if self._thread.is_alive():
                    continue
                raise RuntimeError("the HubSpot page reader stopped without a result") from None
            if not isinstance(item, BaseException):
                return item
            self._failed = item
        raise self._failed

    def _ready(self) -> ImportPage | None:
        """A page already read, if any; a failure is kept for _wait, so the pages before it are written first."""
        try:
            item = self._pages.get_nowait()
        except queue.Empty:
            return None
        if isinstance(item, BaseException):
            self._failed = item
            return None
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)


def _count(crm: CRMConnector, plan: SyncPlan) -> int | None:
    try:
        return crm.count(plan.hubspot_type)
    except ConnectorError as exc:  # only the progress bar needs it
        log.info("hubspot count unavailable", error=exc.message)
        return None


def full_import(uows: UowFactory, crm: CRMConnector, *, actor: Actor, object_type: ObjectType,
                progress: Progress | None = None, alerts: AlertChannel | None = None) -> SyncJobView:
    """Read every HubSpot record page by page; resumes from the page an earlier failed import reached.

    Pages are fetched one or two ahead of the page being written; the saved cursor is always that of the
    last page committed, so an interrupted import resumes without losing or repeating a page.
    """
    require(actor, RESOURCE, UPDATE)
    job_id, plan = _start(uows, actor, JobKind.full_import, object_type)
    started = utcnow()
    with uows() as uow:
        after = setting_row(uow.session, object_type).import_after
    total = _count(crm, plan)
    if total is not None:
        with uows() as uow:
            job = uow.session.get(HubSpotSyncJob, job_id)
            assert job is not None
            job.progress_total = total
            uow.commit()
    done = 0
    reader = PageReader(crm, plan, after)
    try:
        for run in reader:
            last = run[-1]
            cursor: dict[str, object] = {"import_after": last.after}
            if last.after is None:
                cursor["poll_cursor"] = started  # polling continues from when this import began
            batch = {r.id: snapshot_changes(r) for page in run for r in page.records}
            companies = {k: v for page in run for k, v in page.companies.items()}
            _record_page(uows, actor, job_id, plan, batch, summarise=True, companies=companies, **cursor)
            done += sum(len(page.records) for page in run)
            if progress is not None:
                progress(done, total)
    except ConnectorError as exc:
        return _finish(uows, job_id, error=exc, alerts=alerts)
    except Exception as exc:  # a bug or a database failure: the job row must not stay "running"
        _finish(uows, job_id, error=exc, alerts=alerts)
        raise
    finally:
        reader.close()
    return _finish(uows, job_id, error=None, alerts=alerts)


def poll_changes(uows: UowFactory, crm: CRMConnector, *, actor: Actor, object_type: ObjectType,
                 alerts: AlertChannel | None = None, chunk: int = 100) -> SyncJobView:
    """Pull what changed in HubSpot since the last poll (lastmodifieddate), windowed past the search ceiling."""
    require(actor, RESOURCE, UPDATE)
    job_id, plan = _start(uows, actor, JobKind.incremental, object_type)
    with uows() as uow:
        since = setting_row(uow.session, object_type).poll_cursor
    since = since or utcnow() - timedelta(days=1)
    pending: list[CRMRecord] = []
    try:
        for record in crm.modified_since(plan.hubspot_type, since, properties=plan.properties()):
            pending.append(record)
            if len(pending) >= chunk:
                _flush_poll(uows, crm, actor, job_id, plan, pending)
                pending = []
        if pending:
            _flush_poll(uows, crm, actor, job_id, plan, pending)
    except ConnectorError as exc:
        return _finish(uows, job_id, error=exc, alerts=alerts)
    except Exception as exc:  # a bug or a database failure: the job row must not stay "running"
        _finish(uows, job_id, error=exc, alerts=alerts)
        raise
    return _finish(uows, job_id, error=None, alerts=alerts)


def _flush_poll(uows: UowFactory, crm: CRMConnector, actor: Actor, job_id: int, plan: SyncPlan,
                records: list[CRMRecord]) -> None:
    # Results come oldest first, so the newest time in a committed chunk is a safe place to resume from.
    newest: datetime = max(r.updated_at for r in records)
    companies = _companies_of(crm, plan, records)
    _record_page(uows, actor, job_id, plan, _batch_of(records), companies=companies, poll_cursor=newest)


def push_changes(uows: UowFactory, crm: CRMConnector, *, actor: Actor, object_type: ObjectType,
                 alerts: AlertChannel | None = None, batch: int = 100) -> SyncJobView:
    """Send our records changed since they last agreed with HubSpot: update linked ones, create the rest."""
    require(actor, RESOURCE, UPDATE)
    job_id, plan = _start(uows, actor, JobKind.push, object_type)
    try:
        while True:
            with uows() as uow:
                pending = claim_pushes(uow.session, plan, limit=batch)
            if not pending:
                break
            pushed = _send(crm, plan, pending)
            with uows() as uow:
                record_pushes(uow.session, plan, pushed)
                job = uow.session.get(HubSpotSyncJob, job_id)
                assert job is not None
                job.records_synced += len(pushed)
                pairs = company_pairs(uow.session, [p.local_id for p, _ in pushed]) \
                    if object_type is ObjectType.contact else []
                uow.commit()
            if pairs:  # our contact's company, as a v4 association (HubSpot ignores a repeated one)
                crm.associate_contacts_with_companies(pairs)
            if len(pending) < batch:
                break
    except ConnectorError as exc:
        return _finish(uows, job_id, error=exc, alerts=alerts)
    except Exception as exc:  # a bug or a database failure: the job row must not stay "running"
        _finish(uows, job_id, error=exc, alerts=alerts)
        raise
    return _finish(uows, job_id, error=None, alerts=alerts)


def _send(crm: CRMConnector, plan: SyncPlan, pending: list[PendingPush]) -> list[tuple[PendingPush, CRMRecord]]:
    key = KEY_FIELD[plan.object_type].theirs
    out: list[tuple[PendingPush, CRMRecord]] = []
    updates = {p.hubspot_id: p for p in pending if p.hubspot_id and p.properties}
    unchanged = [p for p in pending if p.hubspot_id and not p.properties]
    if updates:
        results = crm.batch_update(plan.hubspot_type, {hid: p.properties for hid, p in updates.items()})
        out.extend((updates[r.id], r) for r in results if r.id in updates)
    now = utcnow()
    out.extend((p, CRMRecord(id=p.hubspot_id or "", properties={}, created_at=now, updated_at=now))
               for p in unchanged)
    new = [p for p in pending if not p.hubspot_id and p.properties.get(key)]
    if new:
        by_key = {str(p.properties[key]): p for p in new}
        # Link to records HubSpot already has (matched once on email/domain) instead of creating duplicates.
        if plan.object_type is ObjectType.contact:
            found = crm.batch_read(plan.hubspot_type, list(by_key), properties=[key], id_property=key)
        else:
            found = [r for r in (crm.find_company_by_domain(k, properties=[key]) for k in by_key) if r is not None]
        for record in found:
            match = by_key.pop((record.properties.get(key) or "").lower(), None)
            if match is not None:
                updated = crm.update(plan.hubspot_type, record.id, match.properties)
                out.append((match, updated))
        if by_key:
            created = crm.batch_create(plan.hubspot_type, [p.properties for p in by_key.values()])
            for record in created:
                match = by_key.get((record.properties.get(key) or "").lower())
                if match is not None:
                    out.append((match, record))
    return out


def sync_now(uows: UowFactory, crm: CRMConnector, *, actor: Actor, full: bool = False,
             alerts: AlertChannel | None = None, progress: Progress | None = None) -> list[SyncJobView]:
    """What "sync now" and `sales-agent hubspot sync` run: pull (full import or poll), then push."""
    require(actor, RESOURCE, UPDATE)
    jobs: list[SyncJobView] = []
    for object_type in (ObjectType.company, ObjectType.contact):
        with uows() as uow:
            plan = plan_of(setting_row(uow.session, object_type))
            needs_import = setting_row(uow.session, object_type).poll_cursor is None
            uow.commit()
        if plan.pull:
            if full or needs_import:
                jobs.append(full_import(uows, crm, actor=actor, object_type=object_type, progress=progress,
                                        alerts=alerts))
            else:
                jobs.append(poll_changes(uows, crm, actor=actor, object_type=object_type, alerts=alerts))
        if plan.push:
            jobs.append(push_changes(uows, crm, actor=actor, object_type=object_type, alerts=alerts))
    return jobs


def test_connection(crm: CRMConnector | None, *, actor: Actor) -> tuple[bool, str]:
    require(actor, RESOURCE, READ)
    if crm is None:
        return False, "Not connected: set HUBSPOT_ACCESS_TOKEN"
    try:
        return True, crm.test_connection()
    except ConnectorError as exc:
        return False, exc.message
