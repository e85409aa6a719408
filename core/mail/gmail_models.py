"""Gmail push bookkeeping: Pub/Sub message ids already taken in, and each mailbox's history cursor and watch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class GmailPushMessage(Base):
    """One Pub/Sub push, by its messageId: Pub/Sub delivers at least once, we act once."""

    __tablename__ = "gmail_push_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    pubsub_message_id: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    history_id: Mapped[int] = mapped_column(BigInteger)  # Gmail's historyId is an unsigned 64-bit number
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class GmailMailboxSync(Base):
    """Where a Gmail mailbox's history sync stands and until when its users.watch is live."""

    __tablename__ = "gmail_mailbox_sync"

    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"), primary_key=True)
    history_id: Mapped[int | None] = mapped_column(BigInteger)
    watch_expires_at: Mapped[datetime | None]
    last_synced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
