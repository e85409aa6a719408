"""With REDIS_URL the public app only queues open and click events; the worker writes them (jobs/tracking.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from types import ModuleType

import pytest
import redis
from sqlalchemy import select

from core.mail.models import EventType, MessageEvent
from core.mail.schemas import MailboxView
from core.services import Services, build_services
from public_endpoints import create_app
from tests.unit.mail.conftest import QueueDraft, outbox_mailbox, queue_draft, send_and_read_paths  # noqa: F401

HUMAN_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"


@pytest.fixture
def with_redis(services: Services, redis_url: str) -> Iterator[Services]:
    """The same database, with Redis configured and a list of its own for this test."""
    key = f"test:tracking:{uuid.uuid4().hex}"
    settings = services.settings.model_copy(update={"redis_url": redis_url, "tracking_redis_key": key,
                                                    "tracking_flush_seconds": 0.05})
    yield build_services(settings, engine=services.engine)
    redis.Redis.from_url(redis_url).delete(key)


def stored(services: Services) -> list[EventType]:
    with services.uow() as uow:
        return sorted(uow.session.scalars(select(MessageEvent.type)))


def waiting(services: Services) -> int:
    return int(redis.Redis.from_url(services.settings.redis_url or "").llen(services.settings.tracking_redis_key))


def hit_pixel_and_link(services: Services, queue_draft: QueueDraft) -> None:  # noqa: F811
    paths = send_and_read_paths(services, queue_draft)
    client = create_app(services.settings, services).test_client()
    assert client.get(paths["pixel"], headers={"User-Agent": HUMAN_UA}).status_code == 200
    assert client.get(paths["click"], headers={"User-Agent": HUMAN_UA}).status_code == 302


def test_the_public_app_only_queues_and_the_worker_writes(jobs: ModuleType, with_redis: Services,
                                                          outbox_mailbox: MailboxView,  # noqa: F811
                                                          queue_draft: QueueDraft) -> None:  # noqa: F811
    from jobs import huey_app, tracking

    hit_pixel_and_link(with_redis, queue_draft)
    time.sleep(0.3)  # several flush intervals: a web worker with Redis writes nothing itself
    assert stored(with_redis) == [] and waiting(with_redis) == 2
    with huey_app.running_against(with_redis):
        assert tracking.drain_once() == 2
        assert tracking.drain_once() == 0  # written once
    assert stored(with_redis) == [EventType.click, EventType.open] and waiting(with_redis) == 0


def test_the_worker_drain_thread_writes_within_a_few_intervals(jobs: ModuleType, with_redis: Services,
                                                               outbox_mailbox: MailboxView,  # noqa: F811
                                                               queue_draft: QueueDraft) -> None:  # noqa: F811
    from jobs import huey_app, tracking

    queue = huey_app.make_huey(with_redis.settings.model_copy(update={"huey_immediate": False}))
    with huey_app.running_against(with_redis, queue):
        tracking.start_tracking_drain()
        try:
            hit_pixel_and_link(with_redis, queue_draft)
            deadline = time.monotonic() + 10
            while stored(with_redis) != [EventType.click, EventType.open] and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            tracking.stop_tracking_drain()
    assert stored(with_redis) == [EventType.click, EventType.open] and waiting(with_redis) == 0


def test_without_redis_the_worker_has_nothing_to_drain(jobs: ModuleType, services: Services) -> None:
    from jobs import huey_app, tracking

    with huey_app.running_against(services):
        assert tracking.drain_once() == 0
