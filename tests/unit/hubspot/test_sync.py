from __future__ import annotations

import pytest

from core.auth.actor import Actor
from core.crm import companies
from core.crm import service as contacts
from core.crm.schemas import ContactUpdate
from core.errors import PermissionDenied
from core.hubspot import service, sync
from core.hubspot.models import ConflictPolicy, JobStatus, ObjectType
from core.hubspot.schemas import SyncSettingInput
from core.integrations.hubspot import HubSpotConnector
from core.integrations.slack import SlackWebhook
from core.services import Services
from tests import factories
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.slack import FakeSlack


def emails(services: Services, actor: Actor) -> list[str]:
    return sorted(c.email for c in contacts.list_contacts(services.uow(), actor=actor, limit=1000).items)


def test_full_import_brings_every_hubspot_contact_once(services: Services, admin: Actor, hub: FakeHubSpot,
                                                      crm: HubSpotConnector) -> None:
    for i in range(230):
        hub.seed("contacts", {"email": f"Buyer{i}@Acme.com", "firstname": "Ann", "lifecyclestage": "customer"})
    seen: list[tuple[int, int | None]] = []
    job = sync.full_import(services.uow, crm, actor=admin, object_type=ObjectType.contact,
                           progress=lambda done, total: seen.append((done, total)))
    assert job.status is JobStatus.succeeded and job.records_synced == 230 and job.progress_total == 230
    # Pages read while others were written are committed together, so the steps vary; the end does not.
    assert seen[-1] == (230, 230) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert emails(services, admin) == sorted(f"buyer{i}@acme.com" for i in range(230))
    again = sync.full_import(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    assert again.records_synced == 230 and len(emails(services, admin)) == 230


def test_full_import_audits_each_committed_batch_not_each_contact(services: Services, admin: Actor,
                                                                 hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    from core.audit.log import list_audit

    for i in range(250):
        hub.seed("contacts", {"email": f"lead{i}@initech.com"})
    job = sync.full_import(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    rows = list_audit(services.uow(), actor=admin, resource_type="contact")
    assert {r.action for r in rows} == {"import_from_hubspot"} and 1 <= len(rows) <= 3
    assert sum(len(r.changes["created"]) for r in rows) == 250
    assert {r.changes["job_id"] for r in rows} == {job.id}


def test_email_changed_in_hubspot_follows_the_same_contact(services: Services, admin: Actor, hub: FakeHubSpot,
                                                          crm: HubSpotConnector) -> None:
    hubspot_id = hub.seed("contacts", {"email": "old@acme.com", "firstname": "Ann"})
    sync.full_import(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    hub.user_edit("contacts", hubspot_id, {"email": "new@acme.com"})
    job = sync.poll_changes(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    assert job.status is JobStatus.succeeded
    assert emails(services, admin) == ["new@acme.com"]


def test_our_new_and_changed_contacts_are_pushed_once_without_echo(services: Services, admin: Actor,
                                                                   hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    mine = factories.contact(services, admin, email="lead@globex.com", first_name="Gil", title="CTO")
    sync.push_changes(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    (obj,) = hub.objects["contacts"].values()
    assert obj.properties["email"] == "lead@globex.com" and obj.properties["jobtitle"] == "CTO"
    contacts.update_contact(services.uow(), actor=admin, contact_id=mine.id, changes=ContactUpdate(title="CEO"))
    writes_before = len(hub.writes())
    sync.push_changes(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    assert obj.properties["jobtitle"] == "CEO"
    assert len(hub.writes()) == writes_before + 1
    # HubSpot's webhooks for our own writes, and a poll, change nothing and push nothing back.
    sync.poll_changes(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    job = sync.push_changes(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    assert job.records_synced == 0 and len(hub.writes()) == writes_before + 1


def test_existing_hubspot_contact_is_linked_by_email_not_duplicated(services: Services, admin: Actor,
                                                                    hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    hub.seed("contacts", {"email": "lead@globex.com", "firstname": "Gil"})
    factories.contact(services, admin, email="lead@globex.com", first_name="Gil", title="CTO")
    sync.push_changes(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    assert len(hub.objects["contacts"]) == 1
    assert next(iter(hub.objects["contacts"].values())).properties["jobtitle"] == "CTO"


def test_interrupted_import_resumes_and_loses_nothing(services: Services, admin: Actor, hub: FakeHubSpot,
                                                     crm: HubSpotConnector) -> None:
    for i in range(450):
        hub.seed("contacts", {"email": f"p{i}@storm.com"})
    hub.fail_next("429", 2)  # a storm the retries absorb
    hub.fail_next("timeout")
    hub.fail_next("500")
    original = hub._handle
    calls = {"n": 0}

    def outage_after_two_pages(request):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] >= 8:
            return hub._error(503, "Service Unavailable", "UNAVAILABLE")
        return original(request)

    hub._handle = outage_after_two_pages  # type: ignore[method-assign]
    with FakeSlack() as slack:
        alerts = SlackWebhook(slack.url)
        first = sync.full_import(services.uow, crm, actor=admin, object_type=ObjectType.contact, alerts=alerts)
        assert first.status is JobStatus.failed and 0 < first.records_synced < 450
        assert "HubSpot" in slack.messages[0]["text"] and "failed" in slack.messages[0]["text"]
        hub._handle = original  # type: ignore[method-assign]  (HubSpot is back)
        second = sync.full_import(services.uow, crm, actor=admin, object_type=ObjectType.contact, alerts=alerts)
    assert second.status is JobStatus.succeeded
    assert first.records_synced + second.records_synced == 450
    assert emails(services, admin) == sorted(f"p{i}@storm.com" for i in range(450))
    health = service.sync_health(services.uow(), actor=admin)
    assert health.success_rate == 0.5 and not health.failing


def test_manual_policy_holds_a_two_sided_change_for_review(services: Services, admin: Actor, hub: FakeHubSpot,
                                                           crm: HubSpotConnector) -> None:
    settings = {s.object_type: s for s in service.get_sync_settings(services.uow(), actor=admin)}
    contact_settings = settings[ObjectType.contact]
    service.update_sync_settings(services.uow(), actor=admin, object_type=ObjectType.contact, data=SyncSettingInput(
        direction=contact_settings.direction, frequency_minutes=5, conflict_policy=ConflictPolicy.manual,
        mapping=contact_settings.mapping))
    hubspot_id = hub.seed("contacts", {"email": "cto@initech.com", "jobtitle": "CTO"})
    sync.full_import(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    local = contacts.find_contact_by_email(services.uow(), actor=admin, email="cto@initech.com")
    assert local is not None
    contacts.update_contact(services.uow(), actor=admin, contact_id=local.id, changes=ContactUpdate(title="VP Eng"))
    hub.user_edit("contacts", hubspot_id, {"jobtitle": "Chief Tech"})
    sync.poll_changes(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    (conflict,) = service.list_conflicts(services.uow(), actor=admin)
    assert (conflict.field, conflict.our_value, conflict.their_value) == ("title", "VP Eng", "Chief Tech")
    service.resolve_conflict(services.uow(), actor=admin, conflict_id=conflict.id, take_theirs=True)
    assert contacts.get_contact(services.uow(), actor=admin, contact_id=local.id).title == "Chief Tech"
    assert service.list_conflicts(services.uow(), actor=admin) == []


def test_contacts_follow_their_hubspot_company_association(services: Services, admin: Actor, hub: FakeHubSpot,
                                                           crm: HubSpotConnector) -> None:
    company_id = hub.seed("companies", {"domain": "globex.com", "name": "Globex"})
    contact_id = hub.seed("contacts", {"email": "hank@globex.com", "firstname": "Hank"})
    loner_id = hub.seed("contacts", {"email": "solo@nowhere.com"})
    crm.associate("contacts", contact_id, "companies", company_id)
    sync.sync_now(services.uow, crm, actor=admin)
    (globex,) = companies.list_companies(services.uow(), actor=admin).items
    hank = contacts.find_contact_by_email(services.uow(), actor=admin, email="hank@globex.com")
    loner = contacts.find_contact_by_email(services.uow(), actor=admin, email="solo@nowhere.com")
    assert hank is not None and hank.company_id == globex.id and globex.name == "Globex"
    assert loner is not None and loner.company_id is None
    assert loner_id in hub.objects["contacts"]  # nothing invented on HubSpot's side either
    assert [(a[1], a[3]) for a in hub.associations if a[:1] == ("contacts",)] == [(contact_id, company_id)]


def test_our_contacts_company_becomes_a_hubspot_association(services: Services, admin: Actor, hub: FakeHubSpot,
                                                           crm: HubSpotConnector) -> None:
    initech = factories.company(services, admin, domain="initech.com", name="Initech")
    peter = factories.contact(services, admin, email="peter@initech.com")
    contacts.update_contact(services.uow(), actor=admin, contact_id=peter.id, changes=ContactUpdate(company_id=initech.id))
    sync.sync_now(services.uow, crm, actor=admin)
    (company_id,) = hub.objects["companies"]
    (contact_id,) = hub.objects["contacts"]
    assert ("contacts", contact_id, "companies", company_id, 279) in hub.associations
    writes = len(hub.writes())
    sync.sync_now(services.uow, crm, actor=admin)  # the association read back changes nothing
    assert len(hub.writes()) == writes


def test_reps_cannot_run_a_sync_and_viewers_cannot_see_it(services: Services, rep: Actor, viewer: Actor,
                                                          crm: HubSpotConnector) -> None:
    with pytest.raises(PermissionDenied):
        sync.sync_now(services.uow, crm, actor=rep)
    with pytest.raises(PermissionDenied):
        service.list_jobs(services.uow(), actor=viewer)


def test_an_industry_learnt_from_hubspot_rescores_the_companys_contacts(services: Services, admin: Actor,
                                                                        hub: FakeHubSpot,
                                                                        crm: HubSpotConnector) -> None:
    company_id = hub.seed("companies", {"domain": "globex.com", "name": "Globex"})
    sync.sync_now(services.uow, crm, actor=admin)
    hank = factories.contact(services, admin, email="hank@globex.com")
    hub.user_edit("companies", company_id, {"industry": "LOGISTICS_AND_SUPPLY_CHAIN"})
    job = sync.poll_changes(services.uow, crm, actor=admin, object_type=ObjectType.company)
    assert job.status is JobStatus.succeeded
    (globex,) = companies.list_companies(services.uow(), actor=admin).items
    assert globex.industry
    after = contacts.get_contact(services.uow(), actor=admin, contact_id=hank.id)
    assert after.enrichment_score == hank.enrichment_score + 15
