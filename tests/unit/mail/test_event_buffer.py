"""The Redis event buffer: pixel and click events pushed by any web worker are written once, in batches."""

from __future__ import annotations

import socket
import time
import uuid

import redis
from sqlalchemy import func, select

from core.mail import pipeline
from core.mail.models import EventType, MessageEvent, SendLedgerEntry
from core.mail.schemas import MailboxView
from core.mail.tracking import MemoryEventBuffer, RedisEventBuffer, tracking_event
from core.services import Services
from public_endpoints.tracking import TrackingRecorder
from tests.unit.mail.conftest import QueueDraft

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def opens(services: Services) -> int:
    with services.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(MessageEvent)
                                      .where(MessageEvent.type == EventType.open)) or 0)


def test_redis_buffer_drains_every_open_into_the_database_once(services: Services, redis_url: str,
                                                               outbox_mailbox: MailboxView,
                                                               queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    pipeline.deliver(services, entry.id, owner="w1")
    with services.uow() as uow:
        token = uow.session.scalar(select(SendLedgerEntry.open_token).where(SendLedgerEntry.id == entry.id))
    assert token is not None
    buffer = RedisEventBuffer(redis_url, key=f"test:tracking:{uuid.uuid4().hex}")
    for _ in range(25):
        buffer.push(tracking_event(EventType.open, token, user_agent=BROWSER, ip="203.0.113.9"))
    buffer.push(tracking_event(EventType.open, "x" * 22, user_agent=BROWSER, ip="203.0.113.9"))  # not ours
    assert len(buffer) == 26
    stored = TrackingRecorder(services, buffer).flush()
    assert (stored, len(buffer), opens(services)) == (25, 0, 25)
    assert TrackingRecorder(services, buffer).flush() == 0


def test_memory_buffer_is_the_default_without_redis(services: Services) -> None:
    buffer = MemoryEventBuffer()
    buffer.push({"t": "open", "tok": "y" * 22, "ua": "", "ip": None, "at": "2026-01-01T00:00:00+00:00"})
    assert len(buffer) == 1 and len(buffer.drain(10)) == 1 and len(buffer) == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_requests_only_gather_events_and_a_thread_sends_them_to_redis(redis_url: str) -> None:
    buffer = RedisEventBuffer(redis_url, key=f"test:tracking:{uuid.uuid4().hex}", push_seconds=0.02)
    try:
        for _ in range(30):
            buffer.push(tracking_event(EventType.open, "z" * 22, user_agent=BROWSER, ip="203.0.113.9"))
        assert len(buffer) == 30  # counted whether gathered here or already in Redis
        deadline = time.monotonic() + 5
        while buffer.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert buffer.pending == 0 and redis.Redis.from_url(redis_url).llen(buffer.key) == 30
    finally:
        buffer.close()
        redis.Redis.from_url(redis_url).delete(buffer.key)


def test_events_wait_while_redis_is_away_and_a_request_never_fails() -> None:
    buffer = RedisEventBuffer(f"redis://127.0.0.1:{_closed_port()}/0", push_seconds=0.02)
    for _ in range(3):
        buffer.push(tracking_event(EventType.click, "z" * 22, user_agent=BROWSER, ip=None))
    time.sleep(0.2)  # several failed rounds
    assert buffer.pending == 3 and buffer.push_pending() == 0
    buffer.close()
    assert buffer.pending == 3  # still kept: closing never drops events


def test_a_stopping_web_worker_hands_what_it_gathered_to_redis(services: Services, redis_url: str) -> None:
    buffer = RedisEventBuffer(redis_url, key=f"test:tracking:{uuid.uuid4().hex}", push_seconds=3600)
    try:
        recorder = TrackingRecorder(services, buffer, flush_in_process=False)
        for _ in range(4):
            recorder.push(tracking_event(EventType.open, "z" * 22, user_agent=BROWSER, ip=None))
        assert buffer.pending == 4
        recorder.stop()
        assert buffer.pending == 0 and redis.Redis.from_url(redis_url).llen(buffer.key) == 4
        assert opens(services) == 0  # the worker writes them, not the web worker
    finally:
        redis.Redis.from_url(redis_url).delete(buffer.key)
