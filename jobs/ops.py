"""Operational tasks: the worker heartbeat that lets Home and /health tell whether a worker is alive."""

from __future__ import annotations

import os
import socket

import structlog
from huey import crontab

import core
from core.logging import bind_trace_id, get_logger
from core.ops.service import record_heartbeat
from jobs import huey_app
from jobs.huey_app import huey

log = get_logger(__name__)

# Overlapping beats (a slow database) are skipped rather than piled up behind each other.
heartbeat_lock = huey.lock_task("heartbeat")


def worker_id() -> str:
    """host:pid of the process running the task (computed per call: process workers fork)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat() -> None:
    record_heartbeat(huey_app.services().uow(), worker=worker_id(), version=core.__version__)


@huey.periodic_task(crontab(minute="*"), name="heartbeat")
@heartbeat_lock
def heartbeat() -> None:
    """Every minute: record that this worker is alive."""
    beat()
    log.debug("heartbeat recorded", worker=worker_id())


@huey.on_startup("heartbeat")
def beat_on_startup() -> None:
    """Show the worker as running as soon as it starts, not a minute later.

    Also drops a heartbeat lock left behind by a consumer killed mid-beat (the storages here support no
    lock TTL); at worst two beats overlap once, which is harmless: each upserts its own worker's row.
    """
    bind_trace_id(task="heartbeat-startup")
    try:
        heartbeat_lock.clear()
        beat()
        log.info("worker started", worker=worker_id(), version=core.__version__)
    finally:
        structlog.contextvars.clear_contextvars()
