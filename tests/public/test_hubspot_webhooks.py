from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from core.auth.actor import Actor
from core.auth.models import Role
from core.config import Settings
from core.crm import service as contacts
from core.hubspot import sync
from core.hubspot.models import ObjectType
from core.hubspot.webhooks import v3_signature
from core.integrations.hubspot import HubSpotConnector
from core.services import Services, build_services
from public_endpoints import create_app
from tests.conftest import add_user
from tests.fakes.hubspot import FakeHubSpot

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
PUBLIC = "https://sales.example.com"


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as fake:
        yield fake


@contextmanager
def wiring(services: Services, hub: FakeHubSpot) -> Iterator[tuple[Services, HubSpotConnector]]:
    """Services with the app secret, the public URL and the fake HubSpot; webhook jobs run at once."""
    from jobs import huey_app

    settings = services.settings.model_copy(update={"public_base_url": PUBLIC,
                                                    "hubspot_client_secret": SecretStr(SECRET)})
    crm = HubSpotConnector(hub.token, api_base=hub.base_url, backoff=0.01, search_limit=(1000, 1.0))
    svc = build_services(settings, engine=services.engine, hubspot=crm)
    with huey_app.running_against(svc, huey_app.make_huey(services.settings)):
        yield svc, crm


@pytest.fixture
def wired(services: Services, hub: FakeHubSpot, jobs: ModuleType) -> Iterator[tuple[Services, HubSpotConnector]]:
    with wiring(services, hub) as pair:
        yield pair


@pytest.fixture
def wired_sqlite(sqlite_settings: Settings, hub: FakeHubSpot,
                 jobs: ModuleType) -> Iterator[tuple[Services, HubSpotConnector, Actor]]:
    """For what the signature check decides before any database work: one backend is enough."""
    services = build_services(sqlite_settings)
    try:
        with wiring(services, hub) as (svc, crm):
            yield svc, crm, add_user(svc, "admin@example.com", Role.admin)
    finally:
        services.dispose()


def client_of(svc: Services) -> FlaskClient:
    return create_app(svc.settings, svc).test_client()


def signed(body: bytes, *, secret: str = SECRET, url: str = PUBLIC + "/webhooks/hubspot",
           timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
    return {"X-HubSpot-Signature-v3": v3_signature(secret, "POST", url, body, ts),
            "X-HubSpot-Request-Timestamp": ts, "Content-Type": "application/json"}


def test_signature_matches_hubspots_published_v3_vector() -> None:
    # From HubSpot's own client tests (hubspot-api-python tests/spec/utils/test_signature.py).
    assert v3_signature(SECRET, "POST", "https://www.example.com/webhook_uri",
                        b"{'example_field':'example_value'}", "15000000") == "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="


def change_event(hub: FakeHubSpot, admin: Actor, svc: Services, crm: HubSpotConnector) -> tuple[str, bytes]:
    hubspot_id = hub.seed("contacts", {"email": "ann@acme.com", "firstname": "Ann"})
    sync.full_import(svc.uow, crm, actor=admin, object_type=ObjectType.contact)
    events = hub.user_edit("contacts", hubspot_id, {"firstname": "Annie"})
    return hubspot_id, json.dumps(events).encode()


def first_name(svc: Services, admin: Actor) -> str | None:
    found = contacts.find_contact_by_email(svc.uow(), actor=admin, email="ann@acme.com")
    return found.first_name if found else None


def test_signed_property_change_is_applied(wired: Any, hub: FakeHubSpot, admin: Actor) -> None:
    svc, crm = wired
    _, body = change_event(hub, admin, svc, crm)
    response = client_of(svc).post("/webhooks/hubspot", data=body, headers=signed(body))
    assert response.status_code == 204
    assert first_name(svc, admin) == "Annie"


@pytest.mark.parametrize("tamper", ["stale timestamp", "changed byte", "wrong secret", "internal url", "unsigned"])
def test_unverified_webhook_is_401_and_changes_nothing(wired_sqlite: Any, hub: FakeHubSpot, tamper: str) -> None:
    svc, crm, admin = wired_sqlite
    _, body = change_event(hub, admin, svc, crm)
    headers = signed(body)
    sent = body
    if tamper == "stale timestamp":
        headers = signed(body, timestamp=int(time.time() * 1000) - 6 * 60 * 1000)
    elif tamper == "changed byte":
        sent = body.replace(b"Annie", b"Annia")
    elif tamper == "wrong secret":
        headers = signed(body, secret="not-the-app-secret")
    elif tamper == "internal url":  # signed for the address behind the proxy, not the public one
        headers = signed(body, url="http://localhost/webhooks/hubspot")
    else:
        headers = {"Content-Type": "application/json"}
    response = client_of(svc).post("/webhooks/hubspot", data=sent, headers=headers)
    assert response.status_code == 401
    assert first_name(svc, admin) == "Ann"


def test_proxied_request_verifies_against_the_public_url(wired: Any, hub: FakeHubSpot, admin: Actor) -> None:
    svc, crm = wired
    _, body = change_event(hub, admin, svc, crm)
    # The request reaches us as http://internal:8502/..., HubSpot signed https://sales.example.com/...
    response = client_of(svc).post("/webhooks/hubspot", data=body, headers=signed(body),
                                   base_url="http://internal:8502")
    assert response.status_code == 204 and first_name(svc, admin) == "Annie"


@pytest.mark.slow
def test_thousand_shuffled_updates_delivered_three_times_converge_without_echo(
        wired: Any, hub: FakeHubSpot, admin: Actor) -> None:
    svc, crm = wired
    ids = [hub.seed("contacts", {"email": f"c{i}@converge.com", "firstname": "A", "jobtitle": "T"})
           for i in range(50)]
    sync.full_import(svc.uow, crm, actor=admin, object_type=ObjectType.contact)
    rng = random.Random(7)
    events: list[dict[str, Any]] = []
    for n in range(1000):
        hubspot_id = ids[n % 50]
        prop = rng.choice(["firstname", "lastname", "jobtitle", "phone"])
        events += hub.user_edit("contacts", hubspot_id, {prop: f"{prop}-{n}"})
    deliveries = events * 3
    rng.shuffle(deliveries)
    client = client_of(svc)
    writes_before = len(hub.writes())
    for start in range(0, len(deliveries), 100):  # HubSpot sends at most 100 events per request
        body = json.dumps(deliveries[start:start + 100]).encode()
        assert client.post("/webhooks/hubspot", data=body, headers=signed(body)).status_code == 204
    ours = {c.email: c for c in contacts.list_contacts(svc.uow(), actor=admin, limit=100).items}
    for hubspot_id in ids:
        theirs = hub.objects["contacts"][hubspot_id].properties
        mine = ours[theirs["email"]]
        assert (mine.first_name, mine.last_name, mine.title, mine.phone) == (
            theirs.get("firstname"), theirs.get("lastname"), theirs.get("jobtitle"), theirs.get("phone"))
    push = sync.push_changes(svc.uow, crm, actor=admin, object_type=ObjectType.contact)
    assert push.records_synced == 0 and len(hub.writes()) == writes_before  # nothing echoed back
