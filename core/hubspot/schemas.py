"""Read models and inputs of the HubSpot sync use cases."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from core.hubspot.mapping import FieldMap
from core.hubspot.models import ConflictPolicy, ConflictStatus, Direction, JobKind, JobStatus, ObjectType


class SyncSettingView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    object_type: ObjectType
    direction: Direction
    frequency_minutes: int
    conflict_policy: ConflictPolicy
    mapping: list[FieldMap]
    poll_cursor: datetime | None
    import_after: str | None


class SyncSettingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Direction
    frequency_minutes: int = Field(ge=1, le=24 * 60)
    conflict_policy: ConflictPolicy
    mapping: list[FieldMap]


class SyncJobView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: JobKind
    object_type: ObjectType
    status: JobStatus
    started_at: datetime
    completed_at: datetime | None
    records_synced: int
    error_count: int
    progress_total: int | None
    message: str | None
    triggered_by: str


class SyncErrorView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_id: int
    object_type: ObjectType
    local_id: int | None
    hubspot_id: str | None
    message: str
    created_at: datetime


class ConflictView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    object_type: ObjectType
    local_id: int
    hubspot_id: str
    field: str
    hubspot_property: str
    our_value: str | None
    their_value: str | None
    their_changed_at: datetime
    status: ConflictStatus
    created_at: datetime


class SyncHealth(BaseModel):
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_failure_message: str | None
    success_rate: float | None  # of the last 50 finished jobs
    open_conflicts: int
    failing: bool  # the newest finished job failed: the dashboard shows a banner
