"""The one Huey instance every task module declares its tasks on, and what tasks use at run time.

``huey`` is built when this module is first imported (by the consumer, via ``jobs.main``, or by a process
that enqueues work), from ``get_settings()``: the worker is an entry point, so reading the environment
here is its start-up. ``core`` itself never builds settings at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any, Protocol, TypeVar

import structlog
from huey import Huey, RedisHuey, SqliteHuey

from core.config import Settings, load_settings
from core.errors import ConfigError
from core.logging import bind_trace_id, configure_logging
from core.services import Services, build_services

QUEUE_NAME = "sales-agent"

F = TypeVar("F", bound=Callable[..., Any])


class TaskLock(Protocol):
    def __call__(self, fn: F) -> F: ...
    def __enter__(self) -> TaskLock: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def is_locked(self) -> bool: ...
    def clear(self) -> bool: ...


class TaskQueue(Protocol):
    """What task modules use of Huey, typed (huey ships no type information); the rest is Any."""

    def task(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]: ...
    def periodic_task(
        self, validate_datetime: Callable[[datetime], bool], *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Any]: ...
    def lock_task(self, lock_name: str, ttl: int | None = None) -> TaskLock: ...
    def on_startup(self, name: str | None = None) -> Callable[[F], F]: ...
    def on_shutdown(self, name: str | None = None) -> Callable[[F], F]: ...
    def pre_execute(self, name: str | None = None) -> Callable[[F], F]: ...
    def post_execute(self, name: str | None = None) -> Callable[[F], F]: ...
    def __getattr__(self, name: str) -> Any: ...
    def __setattr__(self, name: str, value: Any) -> None: ...


def make_huey(settings: Settings, *, name: str = QUEUE_NAME) -> Huey:
    """RedisHuey when REDIS_URL is set, else SqliteHuey under DATA_DIR; immediate mode when asked."""
    immediate = settings.huey_immediate
    if settings.redis_url:
        return RedisHuey(name, url=settings.redis_url, immediate=immediate)
    if not immediate:  # immediate mode keeps its queue in memory: no file needed
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.data_dir / "queue.db"), immediate=immediate)


@cache
def get_settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None


@cache
def _default_services() -> Services:
    return build_services(get_settings())


_services_override: Services | None = None


def services() -> Services:
    """The Services tasks open units of work from: built once per process from get_settings()."""
    return _services_override if _services_override is not None else _default_services()


huey: TaskQueue = make_huey(get_settings())


# Logging and trace ids ------------------------------------------------------------------------------

@cache
def _configure_logging_once() -> None:
    configure_logging(get_settings())
    # huey_consumer gave the "huey" logger a plain handler of its own; drop it so huey's records are
    # rendered once, by the root handler configure_logging installed (JSON in production).
    logging.getLogger("huey").handlers.clear()


@huey.on_startup("configure-logging")
def _configure_logging() -> None:
    # Each consumer worker runs the start-up hooks; logging is configured once per process.
    _configure_logging_once()


# Immediate mode runs a task inside the caller (a request, a test): its logging context is put back after.
_saved_context: dict[str, dict[str, Any]] = {}


@huey.pre_execute("bind-trace-id")
def _bind_task_context(task: Any) -> None:
    _saved_context[task.id] = structlog.contextvars.get_contextvars()
    bind_trace_id(task_id=task.id, task=task.name)


@huey.post_execute("restore-log-context")
def _restore_log_context(task: Any, _value: Any, _exc: BaseException | None) -> None:
    saved = _saved_context.pop(task.id, {})
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**saved)


# Pointing the tasks elsewhere (tests, one-off scripts) ------------------------------------------------

@contextmanager
def running_against(svc: Services, queue: Huey | None = None) -> Iterator[TaskQueue]:
    """Let the declared tasks run against ``svc`` and, when given, ``queue``'s storage and mode.

    Tasks stay declared on the one module-level ``huey``; only the database they write to and where the
    queue, results and locks live change. Both are restored on exit. ``queue`` comes from make_huey().
    """
    global _services_override
    saved = (_services_override, huey.storage, huey.immediate, huey.immediate_use_memory)
    _services_override = svc
    if queue is not None:
        huey.immediate_use_memory = False  # keep the storage assigned below when the mode changes
        huey.immediate = queue.immediate
        huey.storage = queue.storage
    try:
        yield huey
    finally:
        _services_override, storage, immediate, use_memory = saved
        huey.immediate_use_memory = False
        huey.immediate = immediate
        huey.storage = storage
        huey.immediate_use_memory = use_memory
