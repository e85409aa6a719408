"""GET /o/<token>.gif (open pixel) and GET /c/<token> (click redirect), seed 6.4 / 6.5.

The pixel is served whatever happens to the recording; a click redirects only to the URL stored for that
opaque link id. Events go to a buffer on the request path and are written in batches by a flusher thread.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request
from sqlalchemy import select

from core.logging import get_logger
from core.mail.models import EventType, TrackedLink
from core.mail.tracking import (
    TOKEN_PATTERN,
    EventBuffer,
    event_buffer,
    flush_buffer,
    tracking_event,
)
from core.services import Services

bp = Blueprint("tracking", __name__)
log = get_logger("public_endpoints.tracking")
EXTENSION = "sales_agent_tracking"

# The smallest transparent GIF: 1×1, 43 bytes.
PIXEL = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
         b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate, private", "Pragma": "no-cache", "Expires": "0"}


class TrackingRecorder:
    """The buffer, and with the in-process buffer a daemon thread writing it every TRACKING_FLUSH_SECONDS.

    With REDIS_URL the events go to a Redis list that the worker process writes to the database
    (jobs/tracking.py), so no web worker spends its time, or its GIL, on database writes.
    """

    def __init__(self, services: Services, buffer: EventBuffer, *, flush_in_process: bool = True) -> None:
        self.services, self.buffer = services, buffer
        self.flush_in_process = flush_in_process
        self._links: OrderedDict[str, str] = OrderedDict()  # token -> URL; links never change once stored
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def push(self, event: dict[str, Any]) -> None:
        self.buffer.push(event)
        if self._thread is None and self.flush_in_process:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tracking-flusher", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.services.settings.tracking_flush_seconds):
            self.flush()

    def flush(self) -> int:
        """Write everything buffered now, batch by batch; returns how many events were stored."""
        return flush_buffer(self.services, self.buffer)

    def link_url(self, token: str) -> str | None:
        with self._lock:
            if token in self._links:
                return self._links[token]
        with self.services.uow() as uow:
            url = uow.session.scalar(select(TrackedLink.url).where(TrackedLink.token == token))
        if url is not None:
            with self._lock:
                self._links[token] = url
                if len(self._links) > 50_000:
                    self._links.popitem(last=False)
        return url

    def stop(self) -> None:
        """At exit: write what the in-process buffer holds, or hand what gathered to Redis."""
        self._stop.set()
        if self.flush_in_process:
            self.flush()
        self.buffer.close()


def recorder() -> TrackingRecorder:
    found: TrackingRecorder = current_app.extensions[EXTENSION]
    return found


def init_app(app: Flask, services: Services) -> None:
    settings = services.settings
    buffer = event_buffer(settings)
    tracking = TrackingRecorder(services, buffer, flush_in_process=not settings.redis_url)
    app.extensions[EXTENSION] = tracking
    atexit.register(_stop_at_exit, weakref.ref(tracking))  # a graceful stop (SIGTERM) loses no event
    app.register_blueprint(bp)


def _stop_at_exit(ref: weakref.ref[TrackingRecorder]) -> None:
    tracking = ref()
    if tracking is not None:
        tracking.stop()


def _client_ip() -> str | None:
    # The first X-Forwarded-For hop is only trusted behind a proxy that sets it (gunicorn forwarded_allow_ips).
    return request.remote_addr


@bp.get("/o/<path:name>", merge_slashes=False)
def open_pixel(name: str) -> Response:
    try:
        token = name.removesuffix(".gif")
        if TOKEN_PATTERN.fullmatch(token):
            recorder().push(tracking_event(EventType.open, token, user_agent=request.user_agent.string,
                                           ip=_client_ip()))
    except Exception as exc:  # the pixel is served even when recording fails
        log.warning("open not recorded", error=str(exc))
    return Response(PIXEL, status=200, mimetype="image/gif", headers=NO_CACHE)


@bp.get("/c/<path:token>", merge_slashes=False)
def click(token: str) -> Response:
    url = recorder().link_url(token) if TOKEN_PATTERN.fullmatch(token) else None
    if url is None or not url.lower().startswith(("https://", "http://")):
        body = render_template("recipient_page.html", title="Link not found",
                               message="This link is not valid or has expired.", action=None)
        return Response(body, status=404, mimetype="text/html", headers=NO_CACHE)
    try:
        recorder().push(tracking_event(EventType.click, token, user_agent=request.user_agent.string,
                                       ip=_client_ip()))
    except Exception as exc:  # the recipient still gets where they wanted to go
        log.warning("click not recorded", error=str(exc))
    response = Response(status=302, headers={**NO_CACHE, "Location": url})
    response.autocorrect_location_header = False
    return response


class FastPathWSGI:
    """The two requests every mail client makes — a pixel GET and a click GET with a known link — answered as
    plain WSGI, without Flask's request machinery; anything else (HEAD, an unknown link, a bad token) goes to
    ``fallback``, the Flask app with the same routes, which renders pages and errors."""

    def __init__(self, recorder: TrackingRecorder, fallback: Any, *, request_id: Any, extra_headers: dict[str, str],
                 access_log: Any) -> None:
        self.recorder, self.fallback = recorder, fallback
        self.request_id, self.access_log = request_id, access_log
        self.base_headers = [*NO_CACHE.items(), *extra_headers.items()]
        self.pixel_headers = [("Content-Type", "image/gif"), ("Content-Length", str(len(PIXEL))),
                              *self.base_headers]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") != "GET":
            return self.fallback(environ, start_response)
        path: str = environ.get("PATH_INFO", "")
        if path.startswith("/o/"):
            return self._pixel(path[3:], environ, start_response)
        token = path[3:]
        url = self.recorder.link_url(token) if TOKEN_PATTERN.fullmatch(token) else None
        if url is None or not url.lower().startswith(("https://", "http://")):
            return self.fallback(environ, start_response)  # the 404 page
        self._record(EventType.click, token, environ)
        headers = [("Location", url), ("Content-Length", "0"), *self.base_headers, self._id_header(environ)]
        start_response("302 Found", headers)
        self.access_log(path, 302)
        return [b""]

    def _pixel(self, name: str, environ: dict[str, Any], start_response: Any) -> Any:
        token = name.removesuffix(".gif")
        if TOKEN_PATTERN.fullmatch(token):
            self._record(EventType.open, token, environ)
        start_response("200 OK", [*self.pixel_headers, self._id_header(environ)])
        self.access_log("/o/" + name, 200)
        return [PIXEL]

    def _record(self, kind: EventType, token: str, environ: dict[str, Any]) -> None:
        try:
            self.recorder.push(tracking_event(kind, token, user_agent=environ.get("HTTP_USER_AGENT"),
                                              ip=environ.get("REMOTE_ADDR")))
        except Exception as exc:  # the pixel is served and the click redirected even when recording fails
            log.warning("tracking event not recorded", kind=kind.value, error=str(exc))

    def _id_header(self, environ: dict[str, Any]) -> tuple[str, str]:
        return ("X-Request-ID", self.request_id(environ.get("HTTP_X_REQUEST_ID", "")))
