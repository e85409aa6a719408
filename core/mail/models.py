"""Mailboxes, the send ledger (the record of every intended message), the outbox, links and events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crm.models import enum_column
from core.db import Base, TimestampMixin, utcnow


class MailboxKind(StrEnum):
    gmail = "gmail"
    smtp = "smtp"
    outbox = "outbox"


class SmtpSecurity(StrEnum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class Mailbox(TimestampMixin, Base):
    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    kind: Mapped[MailboxKind] = mapped_column(enum_column(MailboxKind))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    postal_address: Mapped[str] = mapped_column(String(500), default="")
    daily_cap: Mapped[int] = mapped_column(default=50)
    window_start_hour: Mapped[int] = mapped_column(default=0)  # local hour, inclusive
    window_end_hour: Mapped[int] = mapped_column(default=24)  # local hour, exclusive
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    smtp_host: Mapped[str | None] = mapped_column(String(253))
    smtp_port: Mapped[int | None]
    smtp_security: Mapped[SmtpSecurity] = mapped_column(enum_column(SmtpSecurity), default=SmtpSecurity.starttls)
    smtp_username: Mapped[str | None] = mapped_column(String(320))
    # Fernet ciphertext of a JSON object (SMTP password or Gmail OAuth tokens); never stored in clear.
    credentials_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    gmail_prefers_drafts: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)


class CampaignTracking(Base):
    """Per-campaign switches for the open pixel and link rewriting (kept beside, not inside, campaigns)."""

    __tablename__ = "campaign_tracking"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    track_opens: Mapped[bool] = mapped_column(default=True)
    track_clicks: Mapped[bool] = mapped_column(default=True)
    plain_text_only: Mapped[bool] = mapped_column(default=False)


class SendStatus(StrEnum):
    pending = "pending"
    claimed = "claimed"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    unknown = "unknown"


class SendLedgerEntry(TimestampMixin, Base):
    """One intended message. Unique per draft (and per enrollment step when sequences arrive)."""

    __tablename__ = "send_ledger"
    __table_args__ = (
        Index("ix_send_ledger_status_next", "status", "next_attempt_at"),
        Index("ix_send_ledger_mailbox_sent", "mailbox_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"), unique=True)
    enrollment_step_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="RESTRICT"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_email: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    is_follow_up: Mapped[bool] = mapped_column(default=False)
    in_reply_to: Mapped[str | None] = mapped_column(String(300))  # Message-ID of the message answered
    references: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SendStatus] = mapped_column(enum_column(SendStatus), default=SendStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(default=utcnow)  # last handed to the queue
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    message_id: Mapped[str] = mapped_column(String(300), unique=True)  # our Message-ID header, fixed at queue time
    open_token: Mapped[str] = mapped_column(String(40), unique=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    thread_id: Mapped[str | None] = mapped_column(String(200), index=True)
    sent_at: Mapped[datetime | None]
    soft_bounces: Mapped[int] = mapped_column(default=0)

    mailbox: Mapped[Mailbox] = relationship()


class OutboxMessage(Base):
    """A message 'sent' by the embedded outbox transport: viewable in the dashboard as the recipient sees it."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    to_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    raw: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrackedLink(Base):
    """An opaque id standing for one URL in one message: the click endpoint redirects only to these."""

    __tablename__ = "tracked_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("send_ledger.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))


class EventType(StrEnum):
    open = "open"
    click = "click"
    reply = "reply"
    auto_reply = "auto_reply"
    bounce = "bounce"
    soft_bounce = "soft_bounce"
    complaint = "complaint"
    unsubscribe = "unsubscribe"


class Classification(StrEnum):
    human = "human"
    apple_proxy = "apple_proxy"
    google_proxy = "google_proxy"
    scanner = "scanner"


class MessageEvent(Base):
    __tablename__ = "message_events"
    __table_args__ = (Index("ix_message_events_entry_type", "ledger_entry_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("send_ledger.id", ondelete="CASCADE"))
    type: Mapped[EventType] = mapped_column(enum_column(EventType), index=True)
    classification: Mapped[Classification] = mapped_column(enum_column(Classification), default=Classification.human)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("tracked_links.id", ondelete="SET NULL"))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(1000))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InboundKind(StrEnum):
    reply = "reply"
    auto_reply = "auto_reply"
    bounce = "bounce"
    soft_bounce = "soft_bounce"
    complaint = "complaint"
    unmatched = "unmatched"


class InboundMessage(Base):
    """Mail that came back: replies, auto-replies, DSNs and ARF reports, once each (by Message-ID)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(300))
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("send_ledger.id", ondelete="SET NULL"),
                                                        index=True)
    kind: Mapped[InboundKind] = mapped_column(enum_column(InboundKind))
    from_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[str | None] = mapped_column(String(40))
    intent_source: Mapped[str | None] = mapped_column(String(20))  # model | offline
    sentiment: Mapped[str | None] = mapped_column(String(20))
    status_code: Mapped[str | None] = mapped_column(String(20))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(40), default="")  # gmail | outbox | test …
    thread_id: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Notification(Base):
    """Something a user should look at now (an interested reply); read_at set once they have."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
