"""The public endpoints: what recipients' mail clients, booking visitors, webhooks and API clients reach.

``create_app()`` is the gunicorn target in production (``gunicorn 'public_endpoints:create_app()'``);
``python -m public_endpoints.serve`` runs it under waitress locally.
"""

from __future__ import annotations

import re
import time
import uuid

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


def current_services() -> Services:
    """The Services of the running app, for views: ``with current_services().uow() as uow``."""
    services: Services = current_app.extensions[EXTENSION]
    return services


def request_id() -> str:
    """The id of the current request (also returned in the X-Request-ID header)."""
    return str(g.get("request_id", ""))


def _incoming_request_id() -> str:
    """Reuse a well-formed id from a proxy or client, so one id follows the request across hops."""
    candidate = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


def _start_request() -> None:
    g.request_id = _incoming_request_id()
    g.started = time.perf_counter()
    bind_trace_id(g.request_id, method=request.method, path=request.path)


def _finish_response(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id() or uuid.uuid4().hex
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    started = g.get("started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    # The path only: query strings may carry tokens.
    log.info("request", method=request.method, path=request.path, status=response.status_code,
             duration_ms=duration_ms)
    return response


def _register_api(app: APIFlask, settings: Settings) -> None:
    """/api/v1 with its rate limit, activity records and problem+json errors (users issue)."""
    from public_endpoints import api, api_auth

    limiter = api_auth.make_limiter(app, settings)
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

    tracking.init_app(app, services)  # /o/ pixel and /c/ clicks, with the event buffer
    app.register_blueprint(unsubscribe.bp)
    _register_api(app, settings)
    return app
