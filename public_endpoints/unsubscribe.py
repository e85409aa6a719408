"""GET /u/<token> shows a confirmation and changes nothing; POST unsubscribes (RFC 8058), no redirect."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from core.mail.recipients import describe_unsubscribe, resubscribe_by_token, unsubscribe_by_token
from public_endpoints import current_services

bp = Blueprint("unsubscribe", __name__)
HEADERS = {"Cache-Control": "no-store"}


def _page(status: int, title: str, message: str, *, action: str | None = None, button: str = "",
          one_click: bool = False) -> Response:
    body = render_template("recipient_page.html", title=title, message=message, action=action, button=button,
                           one_click=one_click)
    return Response(body, status=status, mimetype="text/html", headers=HEADERS)


def _not_found() -> Response:
    return _page(404, "Link not found", "This unsubscribe link is not valid.")


@bp.get("/u/<path:token>", merge_slashes=False)
def confirm(token: str) -> Response:
    services = current_services()
    target = describe_unsubscribe(services.uow(), settings=services.settings, token=token)
    if target is None:
        return _not_found()
    if target.unsubscribed:
        return _page(200, "You are unsubscribed", f"{target.masked_email} receives no more email from us.",
                     action=f"/u/{token}/resubscribe", button="Resubscribe")
    return _page(200, "Unsubscribe?", f"Stop emails from {target.sender} to {target.masked_email}?",
                 action=f"/u/{token}", button="Unsubscribe", one_click=True)


@bp.post("/u/<path:token>", merge_slashes=False)
def one_click(token: str) -> Response:
    if token.endswith("/resubscribe"):
        return _resubscribe(token.removesuffix("/resubscribe"))
    # RFC 8058: the POST carries List-Unsubscribe=One-Click; anything else changes nothing.
    if request.form.get("List-Unsubscribe") != "One-Click":
        return _page(400, "Nothing changed", "This request was not an unsubscribe request.")
    services = current_services()
    target = unsubscribe_by_token(services.uow(), settings=services.settings, token=token)
    if target is None:
        return _not_found()
    return _page(200, "You are unsubscribed", f"{target.masked_email} receives no more email from us.",
                 action=f"/u/{token}/resubscribe", button="Resubscribe")


def _resubscribe(token: str) -> Response:
    services = current_services()
    target = resubscribe_by_token(services.uow(), settings=services.settings, token=token)
    if target is None:
        return _not_found()
    return _page(200, "Resubscribed", f"{target.masked_email} will receive our emails again.")
