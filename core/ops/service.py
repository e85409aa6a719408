"""Operational use cases: worker heartbeats, worker status and database health.

These are system-level facts about the processes, not user data, so they take no actor.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from core.db import utcnow
from core.ops.models import WorkerHeartbeat
from core.uow import UnitOfWork

# Rows of workers silent for this long are pruned, so restarts (a new host:pid each) do not pile up.
FORGET_WORKERS_AFTER = timedelta(days=7)
STALE_AFTER = timedelta(minutes=3)


class WorkerBeat(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    worker: str
    last_beat_at: datetime
    started_at: datetime
    version: str


class WorkerStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    running: bool
    last_beat_at: datetime | None
    workers: list[WorkerBeat]
    summary: str


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def record_heartbeat(uow: UnitOfWork, *, worker: str, version: str, at: datetime | None = None) -> None:
    """Upsert this worker's row (first beat sets started_at) and forget workers silent for a week."""
    at = at or utcnow()
    # Select-then-insert is portable across SQLite and PostgreSQL; two threads of one consumer beating
    # at start-up can race on the insert, and the loser simply retries as an update.
    for attempt in (1, 2):
        with uow:
            session = uow.session
            try:
                row = session.get(WorkerHeartbeat, worker)
                if row is None:
                    row = WorkerHeartbeat(worker=worker, last_beat_at=at, started_at=at, version=version)
                    session.add(row)
                else:
                    row.last_beat_at = max(row.last_beat_at, at)
                    row.version = version
                session.execute(
                    delete(WorkerHeartbeat).where(WorkerHeartbeat.last_beat_at < at - FORGET_WORKERS_AFTER)
                )
                uow.commit()
                return
            except IntegrityError:
                if attempt == 2:
                    raise


def worker_status(
    uow: UnitOfWork, *, now: datetime | None = None, stale_after: timedelta = STALE_AFTER
) -> WorkerStatus:
    """Is any worker alive? Running means a beat within ``stale_after`` (the beat runs every minute)."""
    now = now or utcnow()
    with uow:
        rows = uow.session.scalars(
            select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_beat_at.desc(), WorkerHeartbeat.worker)
        ).all()
        workers = [WorkerBeat.model_validate(row) for row in rows]
    if not workers:
        return WorkerStatus(running=False, last_beat_at=None, workers=[], summary="No worker has run yet")
    last = workers[0].last_beat_at
    running = now - last <= stale_after
    if running:
        alive = sum(1 for w in workers if now - w.last_beat_at <= stale_after)
        count = f"{alive} workers" if alive > 1 else "Worker"
        summary = f"{count} running (last beat {_ago(now - last)} ago)"
    else:
        summary = f"Worker not seen since {last:%Y-%m-%d %H:%M} UTC ({_ago(now - last)} ago)"
    return WorkerStatus(running=running, last_beat_at=last, workers=workers, summary=summary)


def database_health(engine: Engine) -> tuple[bool, str]:
    """SELECT 1 on a fresh connection: (True, "ok") or (False, a one-line reason without credentials)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        return False, _short_reason(exc, engine)
    return True, "ok"


def _short_reason(exc: BaseException, engine: Engine) -> str:
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    message = lines[0] if lines else type(cause).__name__
    password = engine.url.password
    if password:
        message = message.replace(str(password), "***")
    return message[:200]
