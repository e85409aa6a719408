"""Campaigns group contacts and templates; their statistics are counted from member rows."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crm.models import Contact, enum_column
from core.db import Base, TimestampMixin, utcnow


class CampaignType(StrEnum):
    outbound = "outbound"
    nurture = "nurture"
    event = "event"
    re_engagement = "re_engagement"


class CampaignStatus(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    completed = "completed"
    archived = "archived"


campaign_templates = Table(
    "campaign_templates",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("template_id", ForeignKey("email_templates.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Campaign(TimestampMixin, Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[CampaignType] = mapped_column(enum_column(CampaignType), default=CampaignType.outbound)
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus), default=CampaignStatus.draft, index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    members: Mapped[list[CampaignMember]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan"
    )


class CampaignMember(Base):
    """A contact in a campaign; the first time each engagement happened is stamped by sending and
    tracking, and campaign statistics are counted from these stamps."""

    __tablename__ = "campaign_members"
    __table_args__ = (Index("ix_campaign_members_contact", "contact_id"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship(back_populates="members")
    contact: Mapped[Contact] = relationship()
