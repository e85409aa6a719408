"""The worker's HubSpot timeline tasks: a sent email and a task reach the contact's timeline once, even when
the job is delivered twice; without a HubSpot connection they do nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import pytest

from core.auth.actor import Actor
from core.content.models import Draft, DraftStatus
from core.crm.models import Task
from core.hubspot import sync
from core.hubspot.models import ObjectType
from core.integrations.hubspot import HubSpotConnector
from core.services import Services, build_services
from tests import factories
from tests.fakes.hubspot import FakeHubSpot


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as fake:
        yield fake


@pytest.fixture
def worker(services: Services, hub: FakeHubSpot, jobs: ModuleType) -> Iterator[Services]:
    from jobs import huey_app

    crm = HubSpotConnector(hub.token, api_base=hub.base_url, backoff=0.01, search_limit=(100, 1.0))
    svc = build_services(services.settings, engine=services.engine, hubspot=crm)
    with huey_app.running_against(svc, huey_app.make_huey(services.settings)):
        yield svc


def linked_contact_id(svc: Services, admin: Actor) -> int:
    mine = factories.contact(svc, admin, email="ann@acme.com", first_name="Ann")
    sync.push_changes(svc.uow, svc.connectors["hubspot"], actor=admin,  # type: ignore[arg-type]
                      object_type=ObjectType.contact)
    return mine.id


def add(svc: Services, row: Draft | Task) -> int:
    with svc.uow() as uow:
        uow.session.add(row)
        uow.session.flush()
        row_id = row.id
        uow.commit()
    return row_id


def test_sent_email_job_delivered_twice_leaves_one_note(worker: Services, hub: FakeHubSpot, admin: Actor) -> None:
    from jobs.hubspot import enqueue_email_log

    contact_id = linked_contact_id(worker, admin)
    draft_id = add(worker, Draft(to_email="ann@acme.com", subject="Intro", body="Hello", contact_id=contact_id,
                                 status=DraftStatus.sent, sent_at=datetime.now(UTC)))
    assert enqueue_email_log(draft_id) == enqueue_email_log(draft_id) == f"hubspot-email-{draft_id}"
    (note,) = hub.objects["notes"].values()
    assert "Email sent: Intro" in (note.properties["hs_note_body"] or "")


def test_task_job_creates_the_hubspot_task_on_the_contact(worker: Services, hub: FakeHubSpot, admin: Actor) -> None:
    from jobs.hubspot import enqueue_task_push

    contact_id = linked_contact_id(worker, admin)
    task_id = add(worker, Task(title="Send the case study", contact_id=contact_id))
    enqueue_task_push(task_id)
    (task,) = hub.objects["tasks"].values()
    assert task.properties["hs_task_subject"] == "Send the case study"
    (hubspot_contact,) = hub.objects["contacts"]
    assert ("tasks", task.id, "contacts", hubspot_contact, 204) in hub.associations


def test_without_hubspot_the_timeline_jobs_do_nothing(services: Services, jobs: ModuleType, admin: Actor) -> None:
    from jobs import huey_app
    from jobs.hubspot import log_email_to_hubspot

    with huey_app.running_against(services, huey_app.make_huey(services.settings)):
        assert log_email_to_hubspot(1)() is None


def test_new_tasks_on_linked_contacts_reach_the_timeline_once(worker: Services, hub: FakeHubSpot,
                                                              admin: Actor) -> None:
    from jobs.hubspot import push_new_tasks

    contact_id = linked_contact_id(worker, admin)
    unlinked = factories.contact(worker, admin, email="bo@gmail.com").id  # created after the push: not in HubSpot
    add(worker, Task(title="Call Ann", contact_id=contact_id))
    add(worker, Task(title="Call Bo", contact_id=unlinked))
    assert push_new_tasks.call_local() == 1
    assert push_new_tasks.call_local() == 0  # already on the timeline
    assert [t.properties["hs_task_subject"] for t in hub.objects["tasks"].values()] == ["Call Ann"]
