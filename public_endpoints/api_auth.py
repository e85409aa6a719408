"""Who is calling /api/v1: an X-API-Key or a Bearer access token, resolved once per request into g.actor.

Also the rate limiter (flask-limiter: Redis when REDIS_URL is set, else process memory) and the activity
record of each API request.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from apiflask import APIBlueprint
from flask import Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from core.activity.service import record_activity, sample_rate, should_record
from core.auth.actor import Actor
from core.auth.api_keys import authenticate_api_key, key_prefix_of
from core.auth.errors import AuthenticationFailed
from core.auth.tokens import actor_for_access_token
from core.config import Settings
from core.logging import get_logger
from public_endpoints import current_services
from public_endpoints.errors import TYPE_BASE, problem

API_KEY_HEADER = "X-API-Key"
SECURITY_SCHEMES = {
    "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER},
    "BearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}
SECURITY: list[str | dict[str, list[Any]]] = [{"ApiKeyAuth": []}, {"BearerAuth": []}]
# Endpoints that take credentials in their body instead (the token exchange itself).
PUBLIC_ENDPOINTS = frozenset({"api_v1.issue_token", "api_v1.refresh_token"})

log = get_logger("public_endpoints.api")


def unauthorized(detail: str) -> Response:
    return problem(401, "Unauthorized", detail, type_=TYPE_BASE + "authentication_failed",
                   headers={"WWW-Authenticate": 'Bearer realm="api", ApiKey header="X-API-Key"'})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def resolve_actor() -> Response | None:
    """before_request of the API blueprint: 401 unless a valid key or token is presented."""
    g.actor = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    services = current_services()
    key, token = request.headers.get(API_KEY_HEADER), bearer_token()
    try:
        if key:
            g.actor = authenticate_api_key(services.uow(), secret=key.strip(), now=services.clock())
        elif token:
            secret = services.settings.effective_secret_key
            g.actor = actor_for_access_token(services.uow(), token=token, secret=secret, now=services.clock())
        else:
            return unauthorized("Send an API key in the X-API-Key header or an access token as Bearer.")
    except AuthenticationFailed as exc:
        return unauthorized(exc.message)
    return None


def current_actor() -> Actor:
    actor: Actor | None = g.get("actor")
    if actor is None:  # only the token endpoints run without one, and they never ask
        raise AuthenticationFailed("Not signed in.")
    return actor


# Rate limits -----------------------------------------------------------------------------------------

def rate_key() -> str:
    """Per key (or token) when one is presented, else per address; the raw secret never becomes a key.
    The per-address limit (address_key) applies on top, credentials or not."""
    key = request.headers.get(API_KEY_HEADER)
    if key:
        return "key:" + (key_prefix_of(key.strip()) or "malformed")
    token = bearer_token()
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:24]
    return "addr:" + (get_remote_address() or "unknown")


def address_key() -> str:
    """Every request also counts against its address, so many keys or tokens (or guessed ones) from one place
    are limited too; "ip:" keeps this counter apart from rate_key's "addr:" one."""
    return "ip:" + (get_remote_address() or "unknown")


def address_limit_for(settings: Settings) -> Any:
    def current_limit() -> str:
        return settings.api_rate_limit_per_address
    return current_limit


def make_limiter(app: Flask, settings: Settings) -> Limiter:
    storage = settings.redis_url or "memory://"
    return Limiter(rate_key, app=app, storage_uri=storage, headers_enabled=True,
                   key_prefix="sales-agent-api", strategy="fixed-window", swallow_errors=True)


def limit_for(settings: Settings) -> Any:
    def current_limit() -> str:
        return settings.api_rate_limits.get(request.endpoint or "", settings.api_rate_limit_default)
    return current_limit


# Activity --------------------------------------------------------------------------------------------

def start_timer() -> None:
    g.api_started = time.perf_counter()


def record_request(response: Response) -> Response:
    """after_request: one activity row per request (sampled per endpoint); never fails the response."""
    rate = sample_rate(request.path)
    if not should_record(rate):
        return response
    actor: Actor | None = g.get("actor")
    started = g.get("api_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    try:
        record_activity(current_services().uow(), kind="api_request", endpoint=request.path,
                        method=request.method, status=response.status_code, duration_ms=duration, rate=rate,
                        user_id=actor.user_id if actor else None, credential=actor.via if actor else None)
    except Exception as exc:  # the caller's answer matters more than our bookkeeping
        log.warning("activity not recorded", error=type(exc).__name__)
    return response


def api_blueprint(name: str, import_name: str, *, url_prefix: str, tag: str) -> APIBlueprint:
    """An /api/v1 blueprint: every request is timed, its caller resolved (key or token) and recorded."""
    bp = APIBlueprint(name, import_name, url_prefix=url_prefix, tag=tag)
    bp.before_request(start_timer)
    bp.before_request(resolve_actor)
    bp.after_request(record_request)
    return bp
