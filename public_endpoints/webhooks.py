"""POST /webhooks/hubspot: verify the v3 signature, drop event ids already seen, enqueue, answer at once."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from core.config import Settings
from core.hubspot import webhooks
from core.logging import get_logger
from public_endpoints import current_services
from public_endpoints.errors import problem

bp = Blueprint("webhooks", __name__)
log = get_logger("public_endpoints.webhooks")
PATH = "/webhooks/hubspot"


@bp.post(PATH)
def hubspot() -> Response:
    settings: Settings = current_app.config["SETTINGS"]
    secret = settings.hubspot_client_secret.get_secret_value() if settings.hubspot_client_secret else ""
    body = request.get_data(cache=True)
    # The URL HubSpot called is the public one, not what the proxy forwarded to us.
    uri = settings.public_base_url + PATH + (f"?{request.query_string.decode()}" if request.query_string else "")
    verified = webhooks.verify_v3(secret, method=request.method, uri=uri, body=body,
                                  timestamp=request.headers.get("X-HubSpot-Request-Timestamp"),
                                  signature=request.headers.get("X-HubSpot-Signature-v3"),
                                  now_ms=webhooks.now_ms(current_services().clock()))
    if not verified:
        log.warning("hubspot webhook refused", reason="signature")
        return problem(401, "Unauthorized", "The request signature could not be verified.")
    try:
        events = webhooks.parse_events(body)
    except ValueError:
        return problem(400, "Bad Request", "Expected a JSON array of HubSpot events.")
    fresh = webhooks.record_events(current_services().uow(), events)
    if fresh:
        from jobs.hubspot import enqueue_events

        enqueue_events(fresh)
    log.info("hubspot webhook accepted", events=len(events), new=len(fresh))
    return Response(status=204)
