"""Writes the pixel and click events that the public app pushed to Redis (with REDIS_URL set).

The web workers only append to the Redis list; this process drains it every TRACKING_FLUSH_SECONDS in
batches, so database writes never compete with the request threads. Without Redis the public app keeps
an in-process buffer and writes it itself (public_endpoints/tracking.py), and nothing runs here.
"""

from __future__ import annotations

import threading

from huey import crontab

from core.logging import bind_trace_id, get_logger
from core.mail.tracking import EventBuffer, event_buffer, flush_buffer
from core.services import Services
from jobs import huey_app
from jobs.huey_app import huey

log = get_logger(__name__)

_started = threading.Lock()
_drainer: threading.Thread | None = None
_stop = threading.Event()


def drain_once(buffer: EventBuffer | None = None) -> int:
    """Write everything waiting in the Redis list now; returns the number of events stored."""
    services = huey_app.services()
    if not services.settings.redis_url:
        return 0
    return flush_buffer(services, buffer or event_buffer(services.settings))


def _drain_forever(services: Services, stop: threading.Event) -> None:
    buffer = event_buffer(services.settings)
    while not stop.wait(services.settings.tracking_flush_seconds):
        bind_trace_id()
        try:
            stored = flush_buffer(services, buffer)
        except Exception as exc:  # Redis away for a moment: the events wait in the list, try again later
            log.warning("tracking drain failed", error=type(exc).__name__)
            continue
        if stored:
            log.debug("tracking events written", stored=stored)


@huey.on_startup("tracking-drain")
def start_tracking_drain() -> None:
    """One drain thread per consumer process (Huey calls start-up hooks once per worker thread)."""
    global _drainer
    services = huey_app.services()
    if not services.settings.redis_url or huey.immediate:
        return
    with _started:
        if _drainer is None or not _drainer.is_alive():
            _stop.clear()
            _drainer = threading.Thread(target=_drain_forever, args=(services, _stop), name="tracking-drain",
                                        daemon=True)
            _drainer.start()


@huey.on_shutdown("tracking-drain")
def stop_tracking_drain() -> None:
    """Stop the drain thread after one last drain, so a stopping worker leaves nothing behind it wrote."""
    global _drainer
    with _started:
        thread, _drainer = _drainer, None
    if thread is not None:
        _stop.set()
        thread.join(timeout=30)
        drain_once()


@huey.periodic_task(crontab(minute="*"), name="drain_tracking_events")
def drain_tracking_events() -> None:
    """Every minute, a safety net: restarts the drain thread if it died and writes what waits."""
    start_tracking_drain()
    drain_once()
