"""Errors as RFC 9457 problem details (``application/problem+json``), never with internals in them."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, InternalServerError

from core.errors import (
    Conflict,
    ConnectorError,
    NotFound,
    PermissionDenied,
    SalesAgentError,
    ValidationFailed,
)
from core.logging import get_logger
from public_endpoints import request_id

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:sales-agent:problem:"

log = get_logger("public_endpoints.errors")

# Most specific first: InvalidTransition is a Conflict.
_STATUS: list[tuple[type[SalesAgentError], int, str]] = [
    (NotFound, 404, "Not Found"),
    (ValidationFailed, 422, "Unprocessable Content"),
    (Conflict, 409, "Conflict"),
    (PermissionDenied, 403, "Forbidden"),
]


def problem(status: int, title: str, detail: str | None = None, *, type_: str = "about:blank",
            headers: dict[str, str] | None = None, **extensions: Any) -> Response:
    """A problem+json response; the request id lets a user quote what support can find in the logs."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extensions)
    body["request_id"] = request_id()
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _jsonable(details: object) -> object | None:
    if not isinstance(details, dict | list):
        return None
    try:
        plain: object = json.loads(json.dumps(details, default=str))
    except (TypeError, ValueError):
        return None
    return plain


def handle_core_error(exc: SalesAgentError) -> Response:
    if isinstance(exc, ConnectorError):
        # The vendor's message may name internals; it goes to the log, the caller gets the gist.
        log.warning("connector error", connector=exc.connector, retryable=exc.retryable, error=exc.message)
        status = 503 if exc.retryable else 502
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else None
        title = "Service Unavailable" if exc.retryable else "Bad Gateway"
        return problem(status, title, f"The {exc.connector} service did not answer as expected.",
                       type_=TYPE_BASE + exc.code, headers=headers, retryable=exc.retryable)
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            extra: dict[str, Any] = {}
            errors = _jsonable(exc.details) if isinstance(exc, ValidationFailed) else None
            if errors is not None:
                extra["errors"] = errors
            return problem(status, title, exc.message, type_=TYPE_BASE + exc.code, **extra)
    # ConfigError and anything not meant for callers: an internal error like any other.
    return handle_unexpected(exc)


def handle_http_error(exc: HTTPException) -> Response:
    """Flask/werkzeug errors (unknown route 404, 405, 413 …) in the same shape."""
    if isinstance(exc, InternalServerError):
        return handle_unexpected(exc.original_exception or exc)
    status = exc.code or 500
    headers = {}
    allow = exc.get_response().headers.get("Allow")
    if allow:
        headers["Allow"] = allow
    return problem(status, exc.name, exc.description, headers=headers)


def handle_unexpected(exc: BaseException) -> Response:
    log.error("unhandled error", exc_info=exc)
    return problem(500, "Internal Server Error", "Something went wrong on our side.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(SalesAgentError, handle_core_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
