"""The public endpoints: what recipients' mail clients, booking visitors, webhooks and API clients reach.

``create_app()`` is the gunicorn target in production (``gunicorn 'public_endpoints:create_app()'``);
``python -m public_endpoints.serve`` runs it under waitress locally.
"""

from __future__ import annotations

import itertools
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from apiflask import APIFlask
from flask import Flask, Response, current_app, g, request

import core
from core.config import Settings, load_settings
from core.logging import bind_trace_id, configure_logging, get_logger
from core.services import Services, build_services

EXTENSION = "sales_agent"
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

log = get_logger("public_endpoints")
# Recipients' mail clients hit these on every open and click: logged 1 in ACCESS_LOG_SAMPLE when they succeed.
HIGH_VOLUME_PREFIXES = ("/o/", "/c/")
ACCESS_LOG_SAMPLE = 100
# Never rate-limited: a pixel, a click or an unsubscribe must always be answered.
UNLIMITED_BLUEPRINTS = frozenset({"tracking", "unsubscribe", "health"})


def current_services() -> Services:
    """The Services of the running app, for views: ``with current_services().uow() as uow``."""
    services: Services = current_app.extensions[EXTENSION]
    return services


def request_id() -> str:
    """The id of the current request (also returned in the X-Request-ID header)."""
    return str(g.get("request_id", ""))


# Request ids need to be unique, not secret: a per-process random prefix and a counter (32 hex digits) spare
# every pixel request a urandom system call.
_ID_PREFIX = uuid.uuid4().hex[:16]
_id_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter) & 0xFFFFFFFFFFFFFFFF:016x}"


def _incoming_request_id() -> str:
    """Reuse a well-formed id from a proxy or client, so one id follows the request across hops."""
    candidate = request.headers.get(REQUEST_ID_HEADER, "")
    return candidate if _VALID_REQUEST_ID.fullmatch(candidate) else new_request_id()


def _start_request() -> None:
    g.request_id = _incoming_request_id()
    g.started = time.perf_counter()
    bind_trace_id(g.request_id, method=request.method, path=request.path)


def _finish_response(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id() or new_request_id()
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    started = g.get("started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    path = request.path
    if response.status_code < 400 and path.startswith(HIGH_VOLUME_PREFIXES) and random.randrange(ACCESS_LOG_SAMPLE):
        return response
    # The path only: query strings may carry tokens.
    log.info("request", method=request.method, path=path, status=response.status_code, duration_ms=duration_ms)
    return response


def _register_api(app: APIFlask, settings: Settings) -> None:
    """/api/v1 with its rate limit, activity records and problem+json errors (users issue)."""
    from public_endpoints import api, api_auth

    limiter = api_auth.make_limiter(app, settings)
    limiter.request_filter(lambda: request.blueprint in UNLIMITED_BLUEPRINTS)
    limiter.limit(api_auth.limit_for(settings), key_func=api_auth.rate_key)(api.bp)
    limiter.limit(api_auth.address_limit_for(settings), key_func=api_auth.address_key)(api.bp)
    app.config["SECURITY_SCHEMES"] = api_auth.SECURITY_SCHEMES
    app.error_processor(api.api_error)
    app.register_blueprint(api.bp)
    from public_endpoints import api_queue  # contact queue (issue 5): same credentials and limits

    limiter.limit(api_auth.limit_for(settings), key_func=api_auth.rate_key)(api_queue.bp)
    limiter.limit(api_auth.address_limit_for(settings), key_func=api_auth.address_key)(api_queue.bp)
    app.register_blueprint(api_queue.bp)
    from public_endpoints import api_analytics  # email performance (issue 6): same credentials and limits

    limiter.limit(api_auth.limit_for(settings), key_func=api_auth.rate_key)(api_analytics.bp)
    limiter.limit(api_auth.address_limit_for(settings), key_func=api_auth.address_key)(api_analytics.bp)
    app.register_blueprint(api_analytics.bp)
    from public_endpoints import api_notifications  # notifications: same credentials and limits

    limiter.limit(api_auth.limit_for(settings), key_func=api_auth.rate_key)(api_notifications.bp)
    limiter.limit(api_auth.address_limit_for(settings), key_func=api_auth.address_key)(api_notifications.bp)
    app.register_blueprint(api_notifications.bp)


class _HighVolumeDispatcher:
    """Sends pixel and click requests to the tracking fast path, everything else to the main app, so the
    endpoints every mail client hits do not pay for the API's rate limiter and schema machinery."""

    def __init__(self, main: Callable[..., Iterable[bytes]], fast: Callable[..., Iterable[bytes]]) -> None:
        self.main, self.fast = main, fast

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(HIGH_VOLUME_PREFIXES):
            return self.fast(environ, start_response)
        return self.main(environ, start_response)


def _request_id_from(candidate: str) -> str:
    return candidate if _VALID_REQUEST_ID.fullmatch(candidate) else new_request_id()


def _sampled_access_log(path: str, status: int) -> None:
    if not random.randrange(ACCESS_LOG_SAMPLE):
        log.info("request", method="GET", path=path, status=status, sampled=ACCESS_LOG_SAMPLE)


def _tracking_app(settings: Settings, services: Services) -> Flask:
    """The pixel and click endpoints, with the same request ids, headers and error pages as the main app."""
    from public_endpoints import errors, tracking

    lean = Flask(__name__)
    lean.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    lean.config["SETTINGS"] = settings
    lean.extensions[EXTENSION] = services
    lean.before_request(_start_request)
    lean.after_request(_finish_response)
    errors.register_error_handlers(lean)
    tracking.init_app(lean, services)
    return lean


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the public app; settings and services are built here when not given (tests pass theirs)."""
    if settings is None and services is not None:
        settings = services.settings
    if settings is None:
        settings = load_settings()
        configure_logging(settings)
    if services is None:
        services = build_services(settings)

    # APIFlask is a Flask that also builds /openapi.json and /docs from the API blueprints' schemas.
    app = APIFlask(__name__, title="Sales Agent API", version=core.__version__, docs_ui="swagger-ui")
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.config["SETTINGS"] = settings
    app.extensions[EXTENSION] = services

    app.before_request(_start_request)
    app.after_request(_finish_response)

    from public_endpoints import errors, health

    errors.register_error_handlers(app)
    app.register_blueprint(health.bp)
    from public_endpoints import webhooks

    app.register_blueprint(webhooks.bp)
    from public_endpoints import gmail_webhook  # Gmail Pub/Sub push (issue 6)

    app.register_blueprint(gmail_webhook.bp)
    from public_endpoints import tracking, unsubscribe

    lean = _tracking_app(settings, services)  # /o/ pixel and /c/ clicks, with the event buffer
    app.extensions[tracking.EXTENSION] = lean.extensions[tracking.EXTENSION]  # one recorder for both apps
    app.register_blueprint(tracking.bp)  # url_for and tests on the main app still know the routes
    app.register_blueprint(unsubscribe.bp)
    _register_api(app, settings)
    fast = tracking.FastPathWSGI(lean.extensions[tracking.EXTENSION], lean.wsgi_app, request_id=_request_id_from,
                                 extra_headers=SECURITY_HEADERS, access_log=_sampled_access_log)
    app.wsgi_app = _HighVolumeDispatcher(app.wsgi_app, fast)  # type: ignore[method-assign]
    return app
