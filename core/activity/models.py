from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class ActivityEvent(Base):
    """An API request or a dashboard page view (sampled where volume is high); not an audit row."""

    __tablename__ = "activity_events"
    __table_args__ = (Index("ix_activity_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # api_request | page_view
    user_id: Mapped[int | None]
    credential: Mapped[str | None] = mapped_column(String(80))  # "api_key:sa_…", "token", "dashboard"
    endpoint: Mapped[str] = mapped_column(String(200))
    method: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[int | None]
    duration_ms: Mapped[float | None]
    # 1/sample_rate rows were seen for each row kept; counts multiply by it.
    weight: Mapped[int] = mapped_column(default=1)
