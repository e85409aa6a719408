"""HubSpot sync administration: settings and mapping, job history, errors, conflicts, health."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import READ, UPDATE, require
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.hubspot.engine import SyncPlan
from core.hubspot.mapping import DEFAULT_MAPPING, TRANSFORMS, FieldMap, load_local, problems_in, value_hash
from core.hubspot.models import (
    ConflictStatus,
    CrmLink,
    Direction,
    HubSpotConflict,
    HubSpotSyncError,
    HubSpotSyncJob,
    HubSpotSyncSetting,
    JobKind,
    JobStatus,
    ObjectType,
)
from core.hubspot.schemas import (
    ConflictView,
    SyncErrorView,
    SyncHealth,
    SyncJobView,
    SyncSettingInput,
    SyncSettingView,
)
from core.uow import UnitOfWork

RESOURCE = "integrations"


def setting_row(session: Session, object_type: ObjectType) -> HubSpotSyncSetting:
    """The object type's settings, created with the defaults the first time they are needed."""
    row = session.get(HubSpotSyncSetting, object_type)
    if row is None:
        row = HubSpotSyncSetting(object_type=object_type, direction=Direction.both, frequency_minutes=15,
                                 mapping=[f.model_dump(mode="json") for f in DEFAULT_MAPPING[object_type]])
        session.add(row)
        session.flush()
    return row


def plan_of(row: HubSpotSyncSetting) -> SyncPlan:
    mapping = [FieldMap.model_validate(item) for item in row.mapping]
    return SyncPlan(object_type=row.object_type, mapping=mapping, policy=row.conflict_policy,
                    pull=row.direction in (Direction.both, Direction.from_hubspot),
                    push=row.direction in (Direction.both, Direction.to_hubspot))


def get_sync_settings(uow: UnitOfWork, *, actor: Actor) -> list[SyncSettingView]:
    require(actor, RESOURCE, READ)
    with uow:
        views = [SyncSettingView.model_validate(setting_row(uow.session, t)) for t in ObjectType]
        uow.commit()  # keeps the defaults just created
    return views


def update_sync_settings(uow: UnitOfWork, *, actor: Actor, object_type: ObjectType,
                         data: SyncSettingInput) -> SyncSettingView:
    require(actor, RESOURCE, UPDATE)
    problems = problems_in(object_type, data.mapping)
    if problems:
        raise ValidationFailed("; ".join(problems), details={"mapping": problems})
    with uow:
        row = setting_row(uow.session, object_type)
        row.direction, row.frequency_minutes = data.direction, data.frequency_minutes
        row.conflict_policy = data.conflict_policy
        row.mapping = [f.model_dump(mode="json") for f in data.mapping]
        diff = audit.changes_of(row)
        audit.record(uow.session, actor, "update", "hubspot_sync_setting", object_type.value, diff)
        view = SyncSettingView.model_validate(row)
        uow.commit()
    return view


def list_jobs(uow: UnitOfWork, *, actor: Actor, limit: int = 50) -> list[SyncJobView]:
    require(actor, RESOURCE, READ)
    with uow:
        rows = uow.session.scalars(select(HubSpotSyncJob).order_by(HubSpotSyncJob.id.desc()).limit(limit))
        return [SyncJobView.model_validate(r) for r in rows]


def get_job(uow: UnitOfWork, *, actor: Actor, job_id: int) -> SyncJobView:
    require(actor, RESOURCE, READ)
    with uow:
        row = uow.session.get(HubSpotSyncJob, job_id)
        if row is None:
            raise NotFound(f"sync job {job_id} not found")
        return SyncJobView.model_validate(row)


def list_sync_errors(uow: UnitOfWork, *, actor: Actor, job_id: int | None = None,
                     limit: int = 200) -> list[SyncErrorView]:
    require(actor, RESOURCE, READ)
    with uow:
        query = select(HubSpotSyncError).order_by(HubSpotSyncError.id.desc()).limit(limit)
        if job_id is not None:
            query = query.where(HubSpotSyncError.job_id == job_id)
        return [SyncErrorView.model_validate(r) for r in uow.session.scalars(query)]


def list_conflicts(uow: UnitOfWork, *, actor: Actor, status: ConflictStatus | None = ConflictStatus.open,
                   limit: int = 200) -> list[ConflictView]:
    require(actor, RESOURCE, READ)
    with uow:
        query = select(HubSpotConflict).order_by(HubSpotConflict.id.desc()).limit(limit)
        if status is not None:
            query = query.where(HubSpotConflict.status == status)
        return [ConflictView.model_validate(r) for r in uow.session.scalars(query)]


def resolve_conflict(uow: UnitOfWork, *, actor: Actor, conflict_id: int, take_theirs: bool) -> ConflictView:
    """Keep our value (it is pushed on the next sync) or take HubSpot's (applied to our record now)."""
    require(actor, RESOURCE, UPDATE)
    with uow:
        session = uow.session
        conflict = session.get(HubSpotConflict, conflict_id)
        if conflict is None:
            raise NotFound(f"conflict {conflict_id} not found")
        if conflict.status is not ConflictStatus.open:
            raise Conflict(f"conflict {conflict_id} is already resolved")
        obj = load_local(session, conflict.object_type, conflict.local_id)
        link = session.scalar(select(CrmLink).where(CrmLink.object_type == conflict.object_type,
                                                    CrmLink.local_id == conflict.local_id))
        if obj is None or link is None:
            raise NotFound("the record of this conflict no longer exists")
        fmap = next((f for f in plan_of(setting_row(session, conflict.object_type)).mapping
                     if f.theirs == conflict.hubspot_property), None)
        agreed = dict(link.pushed_hashes or {})
        if take_theirs:
            transform = TRANSFORMS[fmap.transform if fmap else "text"]
            setattr(obj, conflict.field, transform.from_hubspot(conflict.their_value))
            agreed[conflict.hubspot_property] = value_hash(conflict.their_value)
        else:
            # Forget the agreed value so the next push carries ours to HubSpot.
            agreed.pop(conflict.hubspot_property, None)
            obj.updated_at = utcnow()
        link.pushed_hashes = agreed
        conflict.status = ConflictStatus.took_theirs if take_theirs else ConflictStatus.kept_ours
        conflict.resolved_at, conflict.resolved_by_id = utcnow(), actor.user_id
        diff = audit.changes_of(obj)
        session.flush()
        if take_theirs:
            link.local_synced_at = obj.updated_at
        audit.record(session, actor, "resolve_conflict", conflict.object_type.value, conflict.local_id,
                     {**diff, "conflict_id": conflict.id, "kept": "theirs" if take_theirs else "ours"})
        view = ConflictView.model_validate(conflict)
        uow.commit()
    return view


def sync_health(uow: UnitOfWork, *, actor: Actor) -> SyncHealth:
    require(actor, RESOURCE, READ)
    with uow:
        session = uow.session
        finished = list(session.scalars(select(HubSpotSyncJob).where(HubSpotSyncJob.status != JobStatus.running)
                                        .order_by(HubSpotSyncJob.id.desc()).limit(50)))
        last_ok = next((j for j in finished if j.status is JobStatus.succeeded), None)
        last_bad = next((j for j in finished if j.status is JobStatus.failed), None)
        ok = sum(1 for j in finished if j.status is JobStatus.succeeded)
        open_conflicts = session.scalar(select(func.count()).select_from(HubSpotConflict)
                                        .where(HubSpotConflict.status == ConflictStatus.open)) or 0
        return SyncHealth(
            last_success_at=last_ok.completed_at if last_ok else None,
            last_failure_at=last_bad.completed_at if last_bad else None,
            last_failure_message=last_bad.message if last_bad else None,
            success_rate=round(ok / len(finished), 3) if finished else None,
            open_conflicts=open_conflicts,
            failing=bool(finished) and finished[0].status is JobStatus.failed,
        )


def sync_is_due(uow: UnitOfWork, *, now: datetime) -> bool:
    """A system check for the poller: has the shortest configured frequency passed since the last run?"""
    with uow:
        rows = [setting_row(uow.session, t) for t in ObjectType]
        active = [r.frequency_minutes for r in rows if r.direction is not Direction.off]
        last = uow.session.scalar(select(func.max(HubSpotSyncJob.started_at))
                                  .where(HubSpotSyncJob.kind != JobKind.webhook))
        uow.commit()
    if not active:
        return False
    return last is None or now - last >= timedelta(minutes=min(active))


def request_sync(uow: UnitOfWork, *, actor: Actor, full: bool) -> None:
    """Who asked for a sync ("sync now"), checked and recorded before the worker's job is enqueued."""
    require(actor, RESOURCE, UPDATE)
    with uow:
        audit.record(uow.session, actor, "request_sync", "hubspot_sync", None, {"full": full})
        uow.commit()


def running_job(uow: UnitOfWork, *, actor: Actor) -> SyncJobView | None:
    """The newest sync job still running (what the progress bar follows), if any."""
    require(actor, RESOURCE, READ)
    with uow:
        row = uow.session.scalar(select(HubSpotSyncJob).where(HubSpotSyncJob.status == JobStatus.running)
                                 .order_by(HubSpotSyncJob.id.desc()).limit(1))
        return SyncJobView.model_validate(row) if row is not None else None
