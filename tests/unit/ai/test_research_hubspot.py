"""Account research with HubSpot connected: synced companies' HubSpot properties become cited facts."""

from __future__ import annotations

import pytest

from core.ai.research import AccountAnalyzer
from core.hubspot.models import CrmLink, ObjectType
from core.integrations.hubspot import HubSpotConnector
from core.services import build_services
from tests import factories
from tests.fakes.hubspot import FakeHubSpot


@pytest.fixture
def hub():
    with FakeHubSpot() as fake:
        yield fake


def crm_services(settings, hub):
    return build_services(settings, hubspot=HubSpotConnector(hub.token, api_base=hub.base_url, backoff=0.01,
                                                             max_retries=0))


def linked_company(services, actor, hub, **hubspot_properties):
    company = factories.company(services, actor, domain="northwind.example", name="Northwind Freight")
    hubspot_id = hub.seed("companies", {"domain": "northwind.example", "name": "Northwind Freight",
                                        **hubspot_properties})
    with services.uow() as uow:
        uow.session.add(CrmLink(object_type=ObjectType.company, local_id=company.id, hubspot_id=hubspot_id))
        uow.commit()
    return hubspot_id


def test_hubspot_properties_of_a_synced_company_are_facts_citing_hubspot(settings, rep, hub):
    services = crm_services(settings, hub)
    hubspot_id = linked_company(services, rep, hub, industry="Logistics", numberofemployees="420",
                                description="Regional freight forwarder with 12 depots")
    analysis = AccountAnalyzer(services, rep).analyze_company("northwind.example")

    facts = {f.label: f for f in analysis.facts}
    assert facts["description"].value == "Regional freight forwarder with 12 depots"
    assert facts["description"].source == f"hubspot:companies/{hubspot_id}#description"
    assert analysis.industry == "Logistics" and "carrier costs" in analysis.pain_points
    assert any(i.source.startswith("hubspot:") for i in analysis.insights)
    services.dispose()


def test_hubspot_failure_leaves_database_facts_and_says_why(settings, rep, hub):
    services = crm_services(settings, hub)
    linked_company(services, rep, hub, description="Freight")
    hub.fail_next("500")
    analysis = AccountAnalyzer(services, rep).analyze_company("northwind.example")

    assert analysis.hubspot_error and analysis.hubspot_error.startswith("HubSpot facts unavailable")
    assert [f.label for f in analysis.facts] == ["company"]
    services.dispose()


def test_companies_not_synced_to_hubspot_cost_no_hubspot_call(settings, rep, hub):
    services = crm_services(settings, hub)
    factories.company(services, rep, domain="local-only.example", name="Local Only")
    AccountAnalyzer(services, rep).analyze_company("local-only.example")
    assert hub.requests == []
    services.dispose()
