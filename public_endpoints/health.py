"""GET /health: for load balancers, uptime checks and `sales-agent up`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

import core
from core.logging import get_logger
from core.ops.service import database_health, worker_status
from public_endpoints import current_services

bp = Blueprint("health", __name__)
log = get_logger("public_endpoints.health")


def _worker() -> dict[str, Any]:
    # Only the summary: worker host names and pids are not for the public internet.
    try:
        status = worker_status(current_services().uow())
    except SQLAlchemyError as exc:  # e.g. the schema is not migrated yet
        log.warning("worker status unavailable", error=type(exc).__name__)
        return {"running": False, "last_beat_at": None, "summary": "Worker status unavailable"}
    last = status.last_beat_at.isoformat() if status.last_beat_at else None
    return {"running": status.running, "last_beat_at": last, "summary": status.summary}


@bp.get("/health")
def health() -> Response:
    services = current_services()
    ok, reason = database_health(services.engine)
    body: dict[str, Any] = {"status": "ok" if ok else "degraded", "version": core.__version__,
                            "database": "ok" if ok else f"unreachable: {reason}"}
    # The worker is reported, never fatal: a stopped worker must not take this process out of the load
    # balancer, because pixels, click redirects and unsubscribes have to keep working without it.
    body["worker"] = _worker() if ok else {"running": False, "last_beat_at": None,
                                           "summary": "Unknown (database unreachable)"}
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
