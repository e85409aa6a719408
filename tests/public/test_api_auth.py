"""/api/v1 as a program sees it: credentials (API keys, bearer tokens), 401 vs 403, problem+json."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.auth.actor import SYSTEM
from core.auth.api_keys import revoke_api_key, rotate_api_key
from core.auth.models import Role
from core.auth.service import suspend_user
from core.config import Settings
from core.services import Services, build_services
from public_endpoints import create_app
from tests.public.api_helpers import PASSWORD, api_key, api_user

PROBLEM = "application/problem+json"


@pytest.fixture
def services(sqlite_settings: Settings) -> Iterator[Services]:
    """SQLite only: the subject is HTTP behaviour; core's auth tests run on both databases."""
    svc = build_services(sqlite_settings)
    yield svc
    svc.dispose()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services.settings, services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_protected_endpoint(client: FlaskClient) -> None:
    response = client.get("/api/v1/contacts")
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.get_json()["status"] == 401
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("header", [{"X-API-Key": "garbage"}, {"X-API-Key": "sa_0000_nope"},
                                    {"Authorization": "Bearer not.a.jwt"}, {"Authorization": "Basic abc"}])
def test_malformed_credentials_get_401(client: FlaskClient, header: dict[str, str]) -> None:
    response = client.get("/api/v1/contacts", headers=header)
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_api_key_auth(services: Services, client: FlaskClient) -> None:
    rep = api_user(services, "rep@example.com", Role.sales_rep)
    key = api_key(services, rep, "read:contacts", "write:contacts")
    created = client.post("/api/v1/contacts", headers={"X-API-Key": key},
                          json={"email": "Ana@Northwind.com", "first_name": "Ana"})
    assert created.status_code == 201
    contact_id = created.get_json()["id"]
    listed = client.get("/api/v1/contacts?search=ana&limit=5", headers={"X-API-Key": key}).get_json()
    assert listed["total"] == 1 and listed["items"][0]["email"] == "ana@northwind.com"
    assert client.get(f"/api/v1/contacts/{contact_id}", headers={"X-API-Key": key}).status_code == 200
    patched = client.patch(f"/api/v1/contacts/{contact_id}", headers={"X-API-Key": key}, json={"title": "COO"})
    assert patched.get_json()["title"] == "COO"


def test_api_key_is_stored_hashed_with_public_prefix(services: Services) -> None:
    from sqlalchemy import select

    from core.auth.credential_models import ApiKey

    key = api_key(services, api_user(services, "rep@example.com", Role.sales_rep), "read:contacts")
    with services.uow() as uow:
        row = uow.session.scalars(select(ApiKey)).one()
        assert key.startswith(row.prefix + "_") and key not in (row.key_hash, row.prefix)


def test_key_without_write_scope_gets_403(services: Services, client: FlaskClient) -> None:
    admin = api_user(services, "admin@example.com", Role.admin)
    key = api_key(services, admin, "read:contacts")
    response = client.post("/api/v1/contacts", headers={"X-API-Key": key}, json={"email": "x@acme.com"})
    assert response.status_code == 403 and response.mimetype == PROBLEM
    assert client.get("/api/v1/companies", headers={"X-API-Key": key}).status_code == 403


def test_rbac(services: Services, client: FlaskClient) -> None:
    viewer = api_user(services, "viewer@example.com", Role.viewer)
    rep = api_user(services, "rep@example.com", Role.sales_rep)
    viewer_key = api_key(services, viewer, "read:contacts", "write:contacts")
    rep_key = api_key(services, rep, "read:contacts", "write:contacts")
    assert client.get("/api/v1/contacts", headers={"X-API-Key": viewer_key}).status_code == 200
    denied = client.post("/api/v1/contacts", headers={"X-API-Key": viewer_key}, json={"email": "v@acme.com"})
    assert denied.status_code == 403 and denied.mimetype == PROBLEM
    contact = client.post("/api/v1/contacts", headers={"X-API-Key": rep_key}, json={"email": "r@acme.com"})
    # Reps may not delete contacts; admins may.
    assert client.delete(f"/api/v1/contacts/{contact.get_json()['id']}",
                         headers={"X-API-Key": rep_key}).status_code == 403


def test_rep_cannot_change_another_reps_contact_over_the_api(services: Services, client: FlaskClient) -> None:
    alice = api_key(services, api_user(services, "alice@example.com", Role.sales_rep), "write:contacts")
    bob = api_key(services, api_user(services, "bob@example.com", Role.sales_rep), "write:contacts")
    contact = client.post("/api/v1/contacts", headers={"X-API-Key": alice}, json={"email": "a@acme.com"}).get_json()
    response = client.patch(f"/api/v1/contacts/{contact['id']}", headers={"X-API-Key": bob}, json={"title": "x"})
    assert response.status_code == 403


def test_revoked_expired_and_rotated_keys(services: Services, client: FlaskClient) -> None:
    user = api_user(services, "admin@example.com", Role.admin)
    key = api_key(services, user, "read:contacts")
    key_id = next(iter(_key_ids(services)))
    rotated = rotate_api_key(services.uow(), actor=SYSTEM, key_id=key_id, grace=timedelta(hours=1),
                             now=services.clock())
    # Within the grace period both keys work.
    assert client.get("/api/v1/contacts", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/api/v1/contacts", headers={"X-API-Key": rotated.secret}).status_code == 200
    later = services.clock() + timedelta(hours=2)
    services.clock = lambda: later
    assert client.get("/api/v1/contacts", headers={"X-API-Key": key}).status_code == 401
    assert client.get("/api/v1/contacts", headers={"X-API-Key": rotated.secret}).status_code == 200
    revoke_api_key(services.uow(), actor=SYSTEM, key_id=rotated.key.id, now=later)
    assert client.get("/api/v1/contacts", headers={"X-API-Key": rotated.secret}).status_code == 401


def _key_ids(services: Services) -> list[int]:
    from core.auth.api_keys import list_api_keys

    return [k.id for k in list_api_keys(services.uow(), actor=SYSTEM)]


def test_key_records_last_used_time(services: Services, client: FlaskClient) -> None:
    from core.auth.api_keys import list_api_keys

    key = api_key(services, api_user(services, "admin@example.com", Role.admin), "read:contacts")
    client.get("/api/v1/contacts", headers={"X-API-Key": key})
    assert list_api_keys(services.uow(), actor=SYSTEM)[0].last_used_at is not None


def _tokens(client: FlaskClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_jwt_tokens(services: Services, client: FlaskClient) -> None:
    api_user(services, "rep@example.com", Role.sales_rep)
    pair = _tokens(client, "rep@example.com")
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/contacts", headers=bearer).status_code == 200
    # Refresh rotates: the new pair works, the old refresh token does not (and ends the sign-in).
    new = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert new.status_code == 200
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401
    replayed_family = client.post("/api/v1/auth/refresh", json={"refresh_token": new.get_json()["refresh_token"]})
    assert replayed_family.status_code == 401


def test_logout_revokes_the_access_token(services: Services, client: FlaskClient) -> None:
    api_user(services, "rep@example.com", Role.sales_rep)
    pair = _tokens(client, "rep@example.com")
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=bearer).status_code == 204
    assert client.get("/api/v1/contacts", headers=bearer).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_expired_access_token_gets_401(services: Services, client: FlaskClient) -> None:
    api_user(services, "rep@example.com", Role.sales_rep)
    bearer = {"Authorization": f"Bearer {_tokens(client, 'rep@example.com')['access_token']}"}
    later = services.clock() + timedelta(seconds=services.settings.jwt_access_ttl_seconds + 1)
    services.clock = lambda: later
    response = client.get("/api/v1/contacts", headers=bearer)
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_suspended_users_token_stops_working(services: Services, client: FlaskClient) -> None:
    user = api_user(services, "rep@example.com", Role.sales_rep)
    bearer = {"Authorization": f"Bearer {_tokens(client, 'rep@example.com')['access_token']}"}
    suspend_user(services.uow(), actor=SYSTEM, user_id=user.id, now=services.clock())
    assert client.get("/api/v1/contacts", headers=bearer).status_code == 401


def test_wrong_password_and_unknown_email_answer_alike(services: Services, client: FlaskClient) -> None:
    api_user(services, "rep@example.com", Role.sales_rep)
    wrong = client.post("/api/v1/auth/token", json={"email": "rep@example.com", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", json={"email": "ghost@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]


def test_invalid_body_is_a_422_problem(services: Services, client: FlaskClient) -> None:
    key = api_key(services, api_user(services, "admin@example.com", Role.admin), "write:contacts")
    response = client.post("/api/v1/contacts", headers={"X-API-Key": key}, json={"nope": 1})
    assert response.status_code == 422 and response.mimetype == PROBLEM


def test_openapi_document_and_docs_are_served(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/contacts" in spec["paths"] and "/api/v1/companies/{company_id}" in spec["paths"]
    assert "ApiKeyAuth" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_api_requests_are_recorded_as_activity(services: Services, client: FlaskClient) -> None:
    from core.activity.service import list_activity

    key = api_key(services, api_user(services, "admin@example.com", Role.admin), "read:contacts")
    client.get("/api/v1/contacts", headers={"X-API-Key": key})
    rows = list_activity(services.uow(), actor=SYSTEM, kind="api_request")
    assert rows[0].endpoint == "/api/v1/contacts" and rows[0].status == 200
    assert rows[0].credential and rows[0].credential.startswith("api_key:sa_")
