"""PATCH /api/v1/companies/<id>: the fields given change, the domain stays present and unique, errors are problems."""

from __future__ import annotations

from flask.testing import FlaskClient

from core.auth.actor import Actor
from core.auth.models import Role
from core.services import Services
from public_endpoints import create_app
from tests import factories
from tests.public.api_helpers import api_key, api_user


def client_and_key(services: Services) -> tuple[FlaskClient, dict[str, str]]:
    manager = api_user(services, "mia@example.com", Role.manager)
    key = api_key(services, manager, "read:companies", "write:companies")
    return create_app(services.settings, services).test_client(), {"X-API-Key": key}


def test_patch_changes_only_the_fields_given(services: Services, admin: Actor) -> None:
    company = factories.company(services, admin, domain="initech.example", name="Initech", size="51-200")
    client, headers = client_and_key(services)
    response = client.patch(f"/api/v1/companies/{company.id}", json={"industry": "Software"}, headers=headers)
    assert response.status_code == 200, response.json
    assert (response.json["industry"], response.json["size"], response.json["name"]) == ("Software", "51-200",
                                                                                         "Initech")


def test_patch_refuses_a_taken_or_missing_domain_and_unknown_fields(services: Services, admin: Actor) -> None:
    factories.company(services, admin, domain="acme.example")
    company = factories.company(services, admin, domain="globex.example")
    client, headers = client_and_key(services)
    taken = client.patch(f"/api/v1/companies/{company.id}", json={"domain": "acme.example"}, headers=headers)
    missing = client.patch(f"/api/v1/companies/{company.id}", json={"domain": None}, headers=headers)
    unknown = client.patch(f"/api/v1/companies/{company.id}", json={"colour": "red"}, headers=headers)
    assert [r.status_code for r in (taken, missing, unknown)] == [409, 422, 422]
    assert all(r.mimetype == "application/problem+json" for r in (taken, missing, unknown))
    again = client.get(f"/api/v1/companies/{company.id}", headers=headers)
    assert again.json["domain"] == "globex.example"
