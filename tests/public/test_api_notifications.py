"""/api/v1/notifications as a program sees it: own notifications only, scopes read:sending / write:sending."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from core.auth.models import Role
from core.auth.schemas import UserView
from core.config import Settings
from core.mail.models import Notification
from core.services import Services, build_services
from public_endpoints import create_app
from tests.public.api_helpers import api_key, api_user


@pytest.fixture
def services(sqlite_settings: Settings) -> Iterator[Services]:
    """SQLite only: the subject is HTTP behaviour; core's notification tests run on both databases."""
    svc = build_services(sqlite_settings)
    yield svc
    svc.dispose()


@pytest.fixture
def client(services: Services) -> FlaskClient:
    return create_app(services.settings, services).test_client()


@pytest.fixture
def rep(services: Services) -> UserView:
    return api_user(services, "rep@example.com", Role.sales_rep)


def notify(services: Services, user_id: int, title: str) -> int:
    with services.uow() as uow:
        row = Notification(user_id=user_id, kind="interested_reply", title=title, body="Sounds great, call me.")
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return row.id


def test_list_and_mark_read_with_the_sending_scopes(client: FlaskClient, services: Services, rep: UserView) -> None:
    mine = notify(services, rep.id, "Ana Lopez is interested")
    notify(services, rep.id, "Ben Ortiz is interested")
    other = api_user(services, "other@example.com", Role.sales_rep)
    theirs = notify(services, other.id, "Not for you")
    reader = {"X-API-Key": api_key(services, rep, "read:sending")}
    writer = {"X-API-Key": api_key(services, rep, "read:sending", "write:sending")}

    listed = client.get("/api/v1/notifications?limit=1", headers=reader)
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    assert (body["total"], body["unread"], body["limit"]) == (2, 2, 1)
    assert body["items"][0]["reply_text"] == "Sounds great, call me."

    assert client.post(f"/api/v1/notifications/{mine}/read", headers=reader).status_code == 403
    marked = client.post(f"/api/v1/notifications/{mine}/read", headers=writer)
    assert marked.status_code == 200 and marked.get_json()["read_at"] is not None
    refused = client.post(f"/api/v1/notifications/{theirs}/read", headers=writer)
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"

    assert client.post("/api/v1/notifications/read-all", headers=writer).get_json() == {"marked_read": 1}
    after = client.get("/api/v1/notifications?unread_only=true", headers=reader).get_json()
    assert (after["total"], after["unread"]) == (0, 0)


def test_bad_paging_and_missing_credentials_are_refused(client: FlaskClient, services: Services,
                                                        rep: UserView) -> None:
    headers = {"X-API-Key": api_key(services, rep, "read:sending")}
    assert client.get("/api/v1/notifications?limit=0", headers=headers).status_code == 422
    assert client.get("/api/v1/notifications").status_code == 401
    no_scope = {"X-API-Key": api_key(services, rep, "read:contacts")}
    assert client.get("/api/v1/notifications", headers=no_scope).status_code == 403
