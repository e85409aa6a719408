"""Contacts (prospects and customers alike), companies, the suppression list and tasks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, TimestampMixin, utcnow


def enum_column(enum: type[StrEnum], length: int = 30) -> Enum:
    # VARCHAR rather than native ENUM: adding a value later needs no PostgreSQL type migration.
    return Enum(enum, native_enum=False, length=length, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])


class LifecycleStage(StrEnum):
    prospect = "prospect"
    contacted = "contacted"
    engaged = "engaged"
    meeting = "meeting"
    opportunity = "opportunity"
    customer = "customer"
    disqualified = "disqualified"


class LawfulBasis(StrEnum):
    consent = "consent"
    legitimate_interest = "legitimate_interest"
    contract = "contract"
    not_recorded = "not_recorded"


class SuppressionReason(StrEnum):
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"
    manual = "manual"


class Company(TimestampMixin, Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    industry: Mapped[str | None] = mapped_column(String(120), index=True)
    size: Mapped[str | None] = mapped_column(String(40))  # employee range, e.g. "51-200"
    employee_count: Mapped[int | None]
    revenue: Mapped[int | None]  # annual, whole US dollars
    score: Mapped[int] = mapped_column(default=0)
    website: Mapped[str | None] = mapped_column(String(500))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    parent: Mapped[Company | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Company]] = relationship(back_populates="parent")
    contacts: Mapped[list[Contact]] = relationship(back_populates="company")


class Contact(TimestampMixin, Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # normalised: trimmed, lower case
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(60))
    linkedin_url: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(80))
    lifecycle_stage: Mapped[LifecycleStage] = mapped_column(
        enum_column(LifecycleStage), default=LifecycleStage.prospect, index=True
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    # Enrichment
    industry: Mapped[str | None] = mapped_column(String(120))
    company_size: Mapped[str | None] = mapped_column(String(40))
    technologies: Mapped[list[str]] = mapped_column(default=list)
    enrichment_score: Mapped[int] = mapped_column(default=0)
    # Consent (GDPR): why we may write to this person and where the data came from
    lawful_basis: Mapped[LawfulBasis] = mapped_column(
        enum_column(LawfulBasis), default=LawfulBasis.not_recorded
    )
    opted_in_at: Mapped[datetime | None]
    data_source: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    company: Mapped[Company | None] = relationship(back_populates="contacts")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email


class Suppression(Base):
    """Addresses we must never write to; kept by email so it outlives deleted contacts."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("email", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    reason: Mapped[SuppressionReason] = mapped_column(enum_column(SuppressionReason))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TaskType(StrEnum):
    call = "call"
    email = "email"
    linkedin = "linkedin"
    todo = "todo"


class TaskStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    complete = "complete"


class TaskPriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Task(TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_assignee_status_due", "assignee_id", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[TaskType] = mapped_column(enum_column(TaskType), default=TaskType.todo)
    due_at: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    priority: Mapped[TaskPriority] = mapped_column(enum_column(TaskPriority), default=TaskPriority.normal)
    status: Mapped[TaskStatus] = mapped_column(
        enum_column(TaskStatus), default=TaskStatus.pending, index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    completed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    contact: Mapped[Contact | None] = relationship()
    company: Mapped[Company | None] = relationship()


