"""The rep's contact queue: one active entry per contact, its status history, proposals, batch jobs, saved filters."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crm.models import Contact, enum_column
from core.db import Base, JSONType, TimestampMixin, utcnow


class QueueStatus(StrEnum):
    pending = "pending"
    researching = "researching"
    ready = "ready"
    draft_created = "draft_created"
    approved = "approved"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"


# Allowed moves; anything else is InvalidTransition. failed and skipped entries may be taken up again.
QUEUE_TRANSITIONS: dict[QueueStatus, frozenset[QueueStatus]] = {
    QueueStatus.pending: frozenset({QueueStatus.researching, QueueStatus.skipped, QueueStatus.failed}),
    QueueStatus.researching: frozenset({QueueStatus.ready, QueueStatus.failed}),
    QueueStatus.ready: frozenset({QueueStatus.researching, QueueStatus.draft_created, QueueStatus.skipped,
                                  QueueStatus.failed}),
    QueueStatus.draft_created: frozenset({QueueStatus.approved, QueueStatus.ready, QueueStatus.researching,
                                          QueueStatus.skipped, QueueStatus.failed}),
    QueueStatus.approved: frozenset({QueueStatus.sent, QueueStatus.failed}),
    QueueStatus.failed: frozenset({QueueStatus.pending, QueueStatus.researching, QueueStatus.ready}),
    QueueStatus.skipped: frozenset({QueueStatus.pending}),
    QueueStatus.sent: frozenset(),
}


class QueuePriority(IntEnum):
    normal = 0
    high = 1
    urgent = 2


class QueueEntry(TimestampMixin, Base):
    __tablename__ = "queue_entries"
    __table_args__ = (
        # Equals contact_id until the entry is sent, then NULL: at most one active entry per contact.
        UniqueConstraint("active_contact_id"),
        Index("ix_queue_entries_status_priority", "status", "priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    active_contact_id: Mapped[int | None]
    status: Mapped[QueueStatus] = mapped_column(enum_column(QueueStatus), default=QueueStatus.pending)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    priority: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    research: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"))
    send_ledger_id: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    contact: Mapped[Contact] = relationship()
    proposals: Mapped[list[QueueProposal]] = relationship(
        back_populates="entry", order_by="QueueProposal.variant", cascade="all, delete-orphan")


class QueueStatusChange(Base):
    """One row per status an entry entered; left_at closes it, so time spent in each status is known."""

    __tablename__ = "queue_status_changes"
    __table_args__ = (Index("ix_queue_status_changes_entry", "entry_id", "entered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entries.id", ondelete="CASCADE"))
    status: Mapped[QueueStatus] = mapped_column(enum_column(QueueStatus))
    from_status: Mapped[QueueStatus | None] = mapped_column(enum_column(QueueStatus))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]
    owner_id: Mapped[int | None]  # the entry's owner then, for per-rep metrics
    reason: Mapped[str | None] = mapped_column(String(1000))


class ProposalStatus(StrEnum):
    proposed = "proposed"
    selected = "selected"
    rejected = "rejected"


class QueueProposal(TimestampMixin, Base):
    """One proposed email; the model's text stays in original_* when the rep edits (the training signal)."""

    __tablename__ = "queue_proposals"
    __table_args__ = (UniqueConstraint("entry_id", "variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entries.id", ondelete="CASCADE"))
    variant: Mapped[int]
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    original_subject: Mapped[str] = mapped_column(String(500))
    original_body: Mapped[str] = mapped_column(Text)
    edited: Mapped[bool] = mapped_column(default=False)
    reasoning: Mapped[str] = mapped_column(Text, default="")
    personalization_notes: Mapped[list[str]] = mapped_column(default=list)
    citations: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    score: Mapped[int] = mapped_column(default=0)
    content_warnings: Mapped[list[str]] = mapped_column(default=list)
    instruction: Mapped[str | None] = mapped_column(String(500))  # the rep's regeneration instruction
    model_label: Mapped[str] = mapped_column(String(120), default="")
    offline: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ProposalStatus] = mapped_column(enum_column(ProposalStatus), default=ProposalStatus.proposed)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"))

    entry: Mapped[QueueEntry] = relationship(back_populates="proposals")


class QueueJobKind(StrEnum):
    research = "research"
    propose = "propose"


class QueueJobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class QueueJob(Base):
    """A research or proposal batch; the page polls this row, so progress survives a reload."""

    __tablename__ = "queue_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[QueueJobKind] = mapped_column(enum_column(QueueJobKind))
    status: Mapped[QueueJobStatus] = mapped_column(enum_column(QueueJobStatus), default=QueueJobStatus.queued)
    # The first done + failed ids are the entries finished, in the order they finished: a resumed run skips them.
    entry_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    regenerate: Mapped[bool] = mapped_column(default=False)
    variants: Mapped[int] = mapped_column(default=3)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[dict[str, Any]] = mapped_column(default=dict)  # entry id -> reason
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SavedQueueFilter(TimestampMixin, Base):
    """A rep's named contact search, to fill the queue from it again."""

    __tablename__ = "queue_saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
