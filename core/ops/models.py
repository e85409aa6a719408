from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class WorkerHeartbeat(Base):
    """Last sign of life of each worker process, so a stopped worker shows on Home."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    last_beat_at: Mapped[datetime]
    started_at: Mapped[datetime]
    version: Mapped[str] = mapped_column(String(40))
