"""POST /webhooks/gmail: Gmail's Pub/Sub push. Verify Google's OIDC token, drop repeats, enqueue, answer 204."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from core.config import Settings
from core.logging import get_logger
from core.mail.gmail_push import PushRefused, parse_push, record_push, verify_push_token
from public_endpoints import current_services
from public_endpoints.errors import problem

bp = Blueprint("gmail_webhook", __name__)
log = get_logger("public_endpoints.gmail_webhook")
PATH = "/webhooks/gmail"


@bp.post(PATH)
def gmail_push() -> Response:
    settings: Settings = current_app.config["SETTINGS"]
    services = current_services()
    try:
        verify_push_token(settings, request.headers.get("Authorization"), now=services.clock().timestamp())
    except PushRefused as refused:
        log.warning("gmail push refused", reason=refused.reason)
        return problem(401, "Unauthorized", "The push token could not be verified.")
    try:
        push = parse_push(request.get_json(silent=True))
    except ValueError:
        return problem(400, "Bad Request", "Expected a Pub/Sub push carrying a Gmail notification.")
    if record_push(services.uow(), push):
        from jobs.gmail import enqueue_history_sync

        enqueue_history_sync(push.email, push.history_id)
        log.info("gmail push accepted", history_id=push.history_id)
    else:
        log.info("gmail push repeated", history_id=push.history_id)
    return Response(status=204)
