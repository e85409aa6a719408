"""Integrations page: connection status, test connection, sync now with job history, progress, the failed-sync
banner, sync settings, and resolving conflicts. HubSpot is the fake on 127.0.0.1, reached through the env."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.auth.actor import SYSTEM, Actor
from core.auth.models import Role
from core.auth.schemas import UserInput
from core.auth.service import create_user
from core.config import load_settings
from core.hubspot import service, sync
from core.hubspot.models import ConflictPolicy, HubSpotSyncJob, JobKind, JobStatus, ObjectType
from core.hubspot.schemas import SyncSettingInput
from core.integrations.hubspot import HubSpotConnector
from core.services import Services, build_services
from tests.fakes.hubspot import FakeHubSpot

Opener = Callable[..., AppTest]
TextOf = Callable[[AppTest], str]
TableOf = Callable[[AppTest, str], pd.DataFrame]
PAGE = "pages/Integrations.py"
ADMIN = "ada@example.com"


@pytest.fixture
def admin_user(empty_services: Services) -> Actor:
    view = create_user(empty_services.uow(), actor=SYSTEM, data=UserInput(email=ADMIN, name="Ada Admin",
                                                                          roles=[Role.admin]))
    return Actor(user_id=view.id, email=view.email, name=view.name, roles=frozenset({Role.admin.value}))


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHubSpot]:
    """The dashboard's HubSpot connector (built from the environment) points at the fake."""
    with FakeHubSpot() as fake:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", fake.token)
        monkeypatch.setenv("HUBSPOT_API_BASE", fake.base_url)
        yield fake


@pytest.fixture
def connected(hub: FakeHubSpot, empty_services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """Services as the dashboard and an in-process worker build them, with jobs run at once."""
    from jobs import huey_app

    monkeypatch.setenv("HUEY_IMMEDIATE", "true")
    settings = load_settings(_env_file=None)
    svc = build_services(settings, engine=empty_services.engine)
    with huey_app.running_against(svc, huey_app.make_huey(settings)):
        yield svc


def test_without_a_token_the_page_says_not_connected(admin_user: Actor, open_page: Opener, text_of: TextOf) -> None:
    at = open_page(PAGE, email=ADMIN)
    assert not at.exception
    assert "CRM: not connected" in text_of(at)
    assert at.button(key="integrations_sync_now").disabled and at.button(key="integrations_test").disabled


def test_test_connection_reports_what_hubspot_answered(admin_user: Actor, connected: Services,
                                                       open_page: Opener, text_of: TextOf) -> None:
    at = open_page(PAGE, email=ADMIN)
    assert "CRM: HubSpot connected" in text_of(at)
    at.button(key="integrations_test").click().run()
    assert "Connected: HubSpot answered" in text_of(at)


def test_sync_now_runs_the_job_and_lists_it_with_a_csv(admin_user: Actor, connected: Services, hub: FakeHubSpot,
                                                       open_page: Opener, table: TableOf) -> None:
    for i in range(3):
        hub.seed("contacts", {"email": f"buyer{i}@acme.com", "firstname": "Ann"})
    at = open_page(PAGE, email=ADMIN)
    at.button(key="integrations_sync_now").click().run()
    assert not at.exception
    jobs = table(at, "triggered by")
    imported = jobs[(jobs["kind"] == "full_import") & (jobs["object"] == "contact")]
    assert list(imported["status"]) == ["succeeded"] and list(imported["records"]) == [3]
    assert list(imported["triggered by"]) == ["system"]
    assert at.success[0].value == "Sync queued."
    assert not at.download_button(key="integrations_jobs_csv").disabled


def test_a_running_job_shows_its_progress(admin_user: Actor, empty_services: Services, open_page: Opener) -> None:
    with empty_services.uow() as uow:
        uow.session.add(HubSpotSyncJob(kind=JobKind.full_import, object_type=ObjectType.contact,
                                       status=JobStatus.running, records_synced=2_500, progress_total=10_000))
        uow.commit()
    at = open_page(PAGE, email=ADMIN)
    (bar,) = at.get("progress")
    assert bar.proto.value == 25 and "2,500 of 10,000 records" in bar.proto.text


def test_failed_sync_shows_the_banner_and_its_record_errors(admin_user: Actor, empty_services: Services,
                                                            hub: FakeHubSpot, open_page: Opener, table: TableOf) -> None:
    hub.seed("contacts", {"firstname": "No email"})  # cannot become a contact: a per-record error
    crm = HubSpotConnector(hub.token, api_base=hub.base_url, backoff=0.01, search_limit=(100, 1.0))
    sync.full_import(empty_services.uow, crm, actor=admin_user, object_type=ObjectType.contact)
    hub.fail_next("502", 30)  # HubSpot down past every retry
    sync.full_import(empty_services.uow, crm, actor=admin_user, object_type=ObjectType.contact)
    at = open_page(PAGE, email=ADMIN)
    assert "The last HubSpot sync failed" in at.error[0].value and "502" in at.error[0].value
    errors = table(at, "HubSpot id")
    assert list(errors["error"]) == ["no usable email: cannot create a contact"]


def test_saving_settings_changes_the_poll_frequency(admin_user: Actor, empty_services: Services,
                                                   open_page: Opener, text_of: TextOf) -> None:
    at = open_page(PAGE, email=ADMIN)
    at.number_input(key="integrations_contact_frequency").set_value(45)
    at.button(key="FormSubmitter:integrations_contact_form-Save settings").click().run()
    assert "Contact sync settings saved." in text_of(at)
    saved = {s.object_type: s for s in service.get_sync_settings(empty_services.uow(), actor=admin_user)}
    assert saved[ObjectType.contact].frequency_minutes == 45


def test_taking_hubspots_value_resolves_the_conflict(admin_user: Actor, empty_services: Services, hub: FakeHubSpot,
                                                     open_page: Opener, text_of: TextOf, table: TableOf) -> None:
    from core.crm import service as contacts
    from core.crm.schemas import ContactUpdate

    current = {s.object_type: s for s in service.get_sync_settings(empty_services.uow(), actor=admin_user)}
    service.update_sync_settings(empty_services.uow(), actor=admin_user, object_type=ObjectType.contact,
                                 data=SyncSettingInput(direction=current[ObjectType.contact].direction,
                                                       frequency_minutes=15, conflict_policy=ConflictPolicy.manual,
                                                       mapping=current[ObjectType.contact].mapping))
    crm = HubSpotConnector(hub.token, api_base=hub.base_url, backoff=0.01, search_limit=(100, 1.0))
    hubspot_id = hub.seed("contacts", {"email": "cto@initech.com", "jobtitle": "CTO"})
    sync.full_import(empty_services.uow, crm, actor=admin_user, object_type=ObjectType.contact)
    local = contacts.find_contact_by_email(empty_services.uow(), actor=admin_user, email="cto@initech.com")
    assert local is not None
    contacts.update_contact(empty_services.uow(), actor=admin_user, contact_id=local.id,
                            changes=ContactUpdate(title="VP Eng"))
    hub.user_edit("contacts", hubspot_id, {"jobtitle": "Chief Tech"})
    sync.poll_changes(empty_services.uow, crm, actor=admin_user, object_type=ObjectType.contact)

    at = open_page(PAGE, email=ADMIN)
    held = table(at, "HubSpot's")
    assert list(held["ours"]) == ["VP Eng"] and list(held["HubSpot's"]) == ["Chief Tech"]
    at.button(key="integrations_take_theirs").click().run()
    assert "Took HubSpot's value." in text_of(at) and "No open conflicts." in text_of(at)
    assert contacts.get_contact(empty_services.uow(), actor=admin_user, contact_id=local.id).title == "Chief Tech"
