"""What the HubSpot sync remembers: links to HubSpot ids, settings per object type, jobs, errors, conflicts,
and webhook events already seen. Our Contact and Company models are untouched: the link table carries the id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.crm.models import enum_column
from core.db import Base, JSONType, utcnow


class ObjectType(StrEnum):
    contact = "contact"
    company = "company"


class Direction(StrEnum):
    off = "off"
    to_hubspot = "to_hubspot"
    from_hubspot = "from_hubspot"
    both = "both"


class ConflictPolicy(StrEnum):
    last_write_wins = "last_write_wins"
    manual = "manual"


class JobKind(StrEnum):
    full_import = "full_import"
    incremental = "incremental"
    push = "push"
    webhook = "webhook"


class JobStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ConflictStatus(StrEnum):
    open = "open"
    kept_ours = "kept_ours"
    took_theirs = "took_theirs"


class CrmLink(Base):
    """Our record ↔ its HubSpot object. Matching is on these ids, so an email change follows the record."""

    __tablename__ = "crm_links"
    __table_args__ = (
        UniqueConstraint("object_type", "hubspot_id", name="uq_crm_links_object_type_hubspot_id"),
        UniqueConstraint("object_type", "local_id", name="uq_crm_links_object_type_local_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[ObjectType] = mapped_column(enum_column(ObjectType, 20))
    local_id: Mapped[int]
    hubspot_id: Mapped[str] = mapped_column(String(40))
    # Per HubSpot property: epoch ms of the newest value applied (pulled or pushed); older changes are stale.
    property_times: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Per HubSpot property: short hash of the value we last pushed, so its webhook echo is recognised.
    pushed_hashes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    local_synced_at: Mapped[datetime | None]  # our updated_at when the two last agreed
    last_pushed_at: Mapped[datetime | None]
    last_pulled_at: Mapped[datetime | None]


class HubSpotSyncSetting(Base):
    """Direction, frequency, conflict policy and field mapping of one object type."""

    __tablename__ = "hubspot_sync_settings"

    object_type: Mapped[ObjectType] = mapped_column(enum_column(ObjectType, 20), primary_key=True)
    direction: Mapped[Direction] = mapped_column(enum_column(Direction), default=Direction.both)
    frequency_minutes: Mapped[int] = mapped_column(default=15)
    conflict_policy: Mapped[ConflictPolicy] = mapped_column(enum_column(ConflictPolicy),
                                                           default=ConflictPolicy.last_write_wins)
    # [{"ours": "first_name", "theirs": "firstname", "transform": "text", "direction": "both"}, ...]
    mapping: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    poll_cursor: Mapped[datetime | None]  # lastmodifieddate reached by incremental polling
    import_after: Mapped[str | None] = mapped_column(String(40))  # paging cursor of an unfinished full import
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HubSpotSyncJob(Base):
    __tablename__ = "hubspot_sync_jobs"
    __table_args__ = (Index("ix_hubspot_sync_jobs_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind))
    object_type: Mapped[ObjectType] = mapped_column(enum_column(ObjectType, 20))
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus), default=JobStatus.running, index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    records_synced: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(Text)
    triggered_by: Mapped[str] = mapped_column(String(320), default="system")


class HubSpotSyncError(Base):
    """One record that failed inside a job; the job carries on with the others."""

    __tablename__ = "hubspot_sync_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("hubspot_sync_jobs.id", ondelete="CASCADE"), index=True)
    object_type: Mapped[ObjectType] = mapped_column(enum_column(ObjectType, 20))
    local_id: Mapped[int | None]
    hubspot_id: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HubSpotConflict(Base):
    """A property both sides changed since they last agreed, held for a person under the manual policy."""

    __tablename__ = "hubspot_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[ObjectType] = mapped_column(enum_column(ObjectType, 20))
    local_id: Mapped[int]
    hubspot_id: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(80))  # our field name
    hubspot_property: Mapped[str] = mapped_column(String(120))
    our_value: Mapped[str | None] = mapped_column(Text)
    their_value: Mapped[str | None] = mapped_column(Text)
    their_changed_at: Mapped[datetime]
    status: Mapped[ConflictStatus] = mapped_column(enum_column(ConflictStatus), default=ConflictStatus.open,
                                                   index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class HubSpotWebhookEvent(Base):
    """Every webhook event id seen: a redelivery with the same id is dropped at the door."""

    __tablename__ = "hubspot_webhook_events"

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subscription_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(index=True)


class TimelineKind(StrEnum):
    email_note = "email_note"  # one of our sent emails, as a note on the contact
    task = "task"


class TimelineStatus(StrEnum):
    sending = "sending"  # claimed: HubSpot may or may not hold it yet
    sent = "sent"
    skipped = "skipped"  # nothing to put on a timeline: not sent yet, or the contact is not linked
    failed = "failed"


class HubSpotTimelineEntry(Base):
    """One email or task of ours on a HubSpot contact's timeline: claimed before the call, so none is doubled."""

    __tablename__ = "hubspot_timeline_entries"
    __table_args__ = (UniqueConstraint("kind", "local_id", name="uq_hubspot_timeline_entries_kind_local_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TimelineKind] = mapped_column(enum_column(TimelineKind, 20))
    local_id: Mapped[int]  # the draft (sent email) or task id
    contact_hubspot_id: Mapped[str | None] = mapped_column(String(40))
    hubspot_id: Mapped[str | None] = mapped_column(String(40))  # the note or task HubSpot created
    status: Mapped[TimelineStatus] = mapped_column(enum_column(TimelineStatus, 20), default=TimelineStatus.sending)
    attempts: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pushed_at: Mapped[datetime | None]
