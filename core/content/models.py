"""Email templates with versions, content-library snippets and drafts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crm.models import Contact, enum_column
from core.db import Base, TimestampMixin, utcnow


class TemplateCategory(StrEnum):
    prospecting = "prospecting"
    nurture = "nurture"
    follow_up = "follow_up"


class EmailTemplate(TimestampMixin, Base):
    __tablename__ = "email_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[TemplateCategory] = mapped_column(enum_column(TemplateCategory), index=True)
    archived: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.version", cascade="all, delete-orphan"
    )

    @property
    def latest(self) -> TemplateVersion:
        return self.versions[-1]


class TemplateVersion(Base):
    """Each save of a template is a new immutable version; drafts point at the one they came from."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("email_templates.id", ondelete="CASCADE"))
    version: Mapped[int]
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    variables: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    template: Mapped[EmailTemplate] = relationship(back_populates="versions")


class SnippetCategory(StrEnum):
    intro = "intro"
    value_prop = "value_prop"
    case_study = "case_study"
    cta = "cta"
    sign_off = "sign_off"


class Snippet(TimestampMixin, Base):
    __tablename__ = "snippets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # referenced as {{> name}}
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[SnippetCategory] = mapped_column(enum_column(SnippetCategory), index=True)
    variables: Mapped[list[str]] = mapped_column(default=list)


class DraftStatus(StrEnum):
    draft = "draft"
    pending_approval = "pending_approval"
    approved = "approved"
    scheduled = "scheduled"
    sent = "sent"
    rejected = "rejected"


# Allowed moves of a draft; anything else is refused with InvalidTransition.
DRAFT_TRANSITIONS: dict[DraftStatus, frozenset[DraftStatus]] = {
    DraftStatus.draft: frozenset({DraftStatus.pending_approval, DraftStatus.approved, DraftStatus.rejected}),
    DraftStatus.pending_approval: frozenset({DraftStatus.approved, DraftStatus.rejected, DraftStatus.draft}),
    DraftStatus.approved: frozenset({DraftStatus.scheduled, DraftStatus.sent, DraftStatus.draft}),
    DraftStatus.scheduled: frozenset({DraftStatus.sent, DraftStatus.approved}),
    DraftStatus.rejected: frozenset({DraftStatus.draft}),
    DraftStatus.sent: frozenset(),
}


class Draft(TimestampMixin, Base):
    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("template_versions.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    status: Mapped[DraftStatus] = mapped_column(enum_column(DraftStatus), default=DraftStatus.draft)
    scheduled_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    contact: Mapped[Contact | None] = relationship()
    template_version: Mapped[TemplateVersion | None] = relationship()
