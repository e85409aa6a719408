from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import structlog

import core
from core.db import utcnow
from core.ops.service import record_heartbeat, worker_status
from core.services import Services
from tests.conftest import make_test_settings


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def test_immediate_heartbeat_task_records_a_running_worker(jobs: ModuleType, services: Services) -> None:
    from jobs import huey_app, ops

    queue = huey_app.make_huey(services.settings)  # settings.huey_immediate is set for tests
    assert queue.immediate
    with huey_app.running_against(services, queue):
        ops.heartbeat()
    status = worker_status(services.uow())
    assert status.running
    assert status.summary.startswith("Worker running (last beat")
    assert [w.worker for w in status.workers] == [this_worker()]
    assert status.workers[0].version == core.__version__


def test_repeated_beats_keep_started_at_and_advance_last_beat(services: Services) -> None:
    first = utcnow() - timedelta(minutes=2)
    record_heartbeat(services.uow(), worker="w:1", version="0.0.9", at=first)
    record_heartbeat(services.uow(), worker="w:1", version=core.__version__, at=first + timedelta(minutes=1))
    (beat,) = worker_status(services.uow()).workers
    assert beat.started_at == first
    assert beat.last_beat_at == first + timedelta(minutes=1)
    assert beat.version == core.__version__


def test_stale_beat_shows_worker_not_running(services: Services) -> None:
    now = utcnow()
    record_heartbeat(services.uow(), worker="w:1", version=core.__version__, at=now - timedelta(minutes=10))
    status = worker_status(services.uow(), now=now)
    assert not status.running
    assert status.last_beat_at == now - timedelta(minutes=10)
    assert status.summary.startswith("Worker not seen since ")
    assert "(10 min ago)" in status.summary


def test_no_beat_yet_says_so(services: Services) -> None:
    status = worker_status(services.uow())
    assert status == status.model_copy(update={"running": False, "last_beat_at": None, "workers": []})
    assert status.summary == "No worker has run yet"


def test_workers_silent_for_a_week_are_forgotten(services: Services) -> None:
    now = utcnow()
    record_heartbeat(services.uow(), worker="old:1", version="0.0.1", at=now - timedelta(days=8))
    record_heartbeat(services.uow(), worker="new:2", version=core.__version__, at=now)
    assert [w.worker for w in worker_status(services.uow(), now=now).workers] == ["new:2"]


def test_consumer_start_up_records_a_beat(jobs: ModuleType, services: Services) -> None:
    from jobs import huey_app, ops

    with huey_app.running_against(services):
        ops.beat_on_startup()
    assert worker_status(services.uow()).running


def test_task_runs_with_its_own_trace_id_and_restores_the_callers(
    jobs: ModuleType, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs import huey_app, ops

    seen: dict[str, Any] = {}
    monkeypatch.setattr(ops, "record_heartbeat", lambda *a, **k: seen.update(structlog.contextvars.get_contextvars()))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(trace_id="request-1")
    try:
        with huey_app.running_against(services, huey_app.make_huey(services.settings)):
            ops.heartbeat()
        assert seen["task"] == "heartbeat"
        assert seen["task_id"]
        assert seen["trace_id"] != "request-1"
        assert structlog.contextvars.get_contextvars() == {"trace_id": "request-1"}
    finally:
        structlog.contextvars.clear_contextvars()


def consume_one(queue: Any) -> None:
    """What a consumer worker does with one message."""
    task = queue.dequeue()
    assert task is not None, "nothing was enqueued"
    queue.execute(task)


def test_heartbeat_through_redis_queue(jobs: ModuleType, services: Services, redis_url: str) -> None:
    from jobs import huey_app, ops

    queue_settings = make_test_settings(redis_url=redis_url, huey_immediate=False)
    queue = huey_app.make_huey(queue_settings, name=f"sa-test-{uuid.uuid4().hex}")
    assert type(queue).__name__ == "RedisHuey"
    try:
        with huey_app.running_against(services, queue) as huey:
            ops.heartbeat()
            assert queue.pending_count() == 1
            assert worker_status(services.uow()).workers == []  # nothing ran yet: it is in Redis
            consume_one(huey)
            assert queue.pending_count() == 0
            assert not ops.heartbeat_lock.is_locked()
    finally:
        queue.flush()
    status = worker_status(services.uow())
    assert status.running
    assert [w.worker for w in status.workers] == [this_worker()]


def test_heartbeat_through_sqlite_queue(jobs: ModuleType, services: Services, tmp_path: Path) -> None:
    from jobs import huey_app, ops

    queue_settings = make_test_settings(data_dir=tmp_path / "queue", huey_immediate=False)
    queue = huey_app.make_huey(queue_settings, name=f"sa-test-{uuid.uuid4().hex}")
    assert type(queue).__name__ == "SqliteHuey"
    with huey_app.running_against(services, queue) as huey:
        ops.heartbeat()
        assert queue.pending_count() == 1
        consume_one(huey)
    assert (tmp_path / "queue" / "queue.db").exists()
    assert worker_status(services.uow()).running


def test_overlapping_heartbeat_is_skipped_while_locked(
    jobs: ModuleType, services: Services, tmp_path: Path
) -> None:
    from jobs import huey_app, ops

    queue = huey_app.make_huey(make_test_settings(data_dir=tmp_path / "queue", huey_immediate=False))
    with huey_app.running_against(services, queue) as huey:
        with ops.heartbeat_lock:
            ops.heartbeat()
            consume_one(huey)
        assert worker_status(services.uow()).workers == []
        ops.heartbeat()
        consume_one(huey)
    assert worker_status(services.uow()).running


def test_module_queue_is_restored_after_running_against(jobs: ModuleType, services: Services, tmp_path: Path) -> None:
    from jobs import huey_app

    before = (huey_app.huey.storage, huey_app.huey.immediate)
    queue = huey_app.make_huey(make_test_settings(data_dir=tmp_path / "queue", huey_immediate=False))
    with huey_app.running_against(services, queue):
        assert huey_app.huey.storage is queue.storage
        assert huey_app.services() is services
    assert (huey_app.huey.storage, huey_app.huey.immediate) == before
