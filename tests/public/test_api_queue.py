"""/api/v1/contact-queue as a program sees it: the seed's Sprint 5 checks, with a scoped API key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from core.auth.actor import Actor
from core.auth.models import Role
from core.config import Settings
from core.services import Services, build_services
from jobs import huey_app
from public_endpoints import create_app
from tests import factories
from tests.public.api_helpers import api_key, api_user

QUEUE = "/api/v1/contact-queue"


@pytest.fixture
def services(sqlite_settings: Settings) -> Iterator[Services]:
    """SQLite only: the subject is HTTP behaviour; core's queue tests run on both databases."""
    svc = build_services(sqlite_settings)
    with huey_app.running_against(svc, huey_app.make_huey(svc.settings)):  # batches run inline
        yield svc
    svc.dispose()


@pytest.fixture
def rep_actor(services: Services) -> Actor:
    user = api_user(services, "rep@example.com", Role.sales_rep)
    return Actor(user_id=user.id, email=user.email, roles=frozenset({Role.sales_rep.value}))


@pytest.fixture
def headers(services: Services, rep_actor: Actor) -> dict[str, str]:
    user = api_user(services, "api.rep@example.com", Role.sales_rep)
    return {"X-API-Key": api_key(services, user, "read:queue", "write:queue")}


@pytest.fixture
def client(services: Services) -> FlaskClient:
    return create_app(services.settings, services).test_client()


def _contacts(services: Services, actor: Actor, n: int) -> list[int]:
    company = factories.company(services, actor, industry="Logistics", employee_count=900)
    return [factories.contact(services, actor, company_domain=company.domain, title="Head of Operations").id
            for _ in range(n)]


def _added(client: FlaskClient, headers: dict[str, str], contact_ids: list[int]) -> list[int]:
    response = client.post(f"{QUEUE}/add-bulk", json={"contact_ids": contact_ids}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return list(response.get_json()["added"])


def test_api_add_and_list(client: FlaskClient, services: Services, rep_actor: Actor, headers: dict[str, str]) -> None:
    (contact_id,) = _contacts(services, rep_actor, 1)
    added = client.post(f"{QUEUE}/add", json={"contact_id": contact_id, "priority": 1}, headers=headers)
    assert added.status_code == 201
    assert added.get_json()["status"] == "pending" and added.get_json()["priority"] == 1

    listed = client.get(f"{QUEUE}/list?status=pending", headers=headers)
    assert listed.status_code == 200
    assert listed.get_json()["total"] == 1 and listed.get_json()["items"][0]["contact_id"] == contact_id


def test_api_bulk_add_of_three(client: FlaskClient, services: Services, rep_actor: Actor,
                               headers: dict[str, str]) -> None:
    assert len(_added(client, headers, _contacts(services, rep_actor, 3))) == 3
    assert client.get(f"{QUEUE}/list", headers=headers).get_json()["total"] == 3


def test_research_endpoint_reaches_ready_with_research_data(client: FlaskClient, services: Services,
                                                            rep_actor: Actor, headers: dict[str, str]) -> None:
    (entry_id,) = _added(client, headers, _contacts(services, rep_actor, 1))
    job = client.post(f"{QUEUE}/research", json={"entry_ids": [entry_id]}, headers=headers)
    assert job.status_code == 202
    assert job.get_json()["status"] == "done" and job.get_json()["done"] == 1

    entry = client.get(f"{QUEUE}/{entry_id}", headers=headers).get_json()
    assert entry["status"] == "ready"
    assert entry["research"]["industry"] == "Logistics" and entry["research"]["insights"]


def test_propose_email_gives_three_proposals_returned_with_the_entry(
        client: FlaskClient, services: Services, rep_actor: Actor, headers: dict[str, str]) -> None:
    (entry_id,) = _added(client, headers, _contacts(services, rep_actor, 1))
    client.post(f"{QUEUE}/research", json={"entry_ids": [entry_id]}, headers=headers)
    job = client.post(f"{QUEUE}/propose-email", json={"entry_ids": [entry_id]}, headers=headers).get_json()
    assert (job["done"], job["failed"]) == (1, 0)

    entry = client.get(f"{QUEUE}/{entry_id}", headers=headers).get_json()
    assert entry["status"] == "draft_created"
    assert len(entry["proposal_list"]) == 3
    assert all(p["subject"] and p["body"] for p in entry["proposal_list"])


def test_metrics_have_total_and_by_status(client: FlaskClient, services: Services, rep_actor: Actor,
                                          headers: dict[str, str]) -> None:
    _added(client, headers, _contacts(services, rep_actor, 2))
    metrics = client.get(f"{QUEUE}/metrics", headers=headers).get_json()
    assert metrics["total"] == 2 and metrics["by_status"]["pending"] == 2


def test_illegal_status_change_is_409_and_missing_entry_404(client: FlaskClient, services: Services,
                                                            rep_actor: Actor, headers: dict[str, str]) -> None:
    (entry_id,) = _added(client, headers, _contacts(services, rep_actor, 1))
    refused = client.post(f"{QUEUE}/{entry_id}/status", json={"status": "sent"}, headers=headers)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert client.get(f"{QUEUE}/999999", headers=headers).status_code == 404


def test_a_key_without_queue_scopes_is_forbidden(client: FlaskClient, services: Services) -> None:
    user = api_user(services, "contacts.only@example.com", Role.sales_rep)
    key = api_key(services, user, "read:contacts")
    assert client.get(f"{QUEUE}/list", headers={"X-API-Key": key}).status_code == 403
    assert client.get(f"{QUEUE}/list").status_code == 401
