from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from core.auth.actor import Actor
from core.content.models import Draft, DraftStatus
from core.crm.models import Task, TaskPriority, TaskType
from core.errors import ConnectorError
from core.hubspot import sync, timeline
from core.hubspot.models import ObjectType, TimelineStatus
from core.integrations.hubspot import HubSpotConnector
from core.services import Services
from tests import factories
from tests.fakes.hubspot import FakeHubSpot


def linked_contact(services: Services, admin: Actor, crm: HubSpotConnector, hub: FakeHubSpot) -> tuple[int, str]:
    """Our contact, pushed to HubSpot so the two are linked; returns (our id, HubSpot id)."""
    mine = factories.contact(services, admin, email="ann@acme.com", first_name="Ann")
    sync.push_changes(services.uow, crm, actor=admin, object_type=ObjectType.contact)
    (hubspot_id,) = hub.objects["contacts"]
    return mine.id, hubspot_id


def sent_email(services: Services, contact_id: int, *, sent: bool = True) -> int:
    with services.uow() as uow:
        draft = Draft(to_email="ann@acme.com", subject="Quick idea for Acme", body="Hi Ann,\nShort note.",
                      contact_id=contact_id, status=DraftStatus.sent if sent else DraftStatus.approved,
                      sent_at=datetime.now(UTC) if sent else None)
        uow.session.add(draft)
        uow.session.flush()
        draft_id = draft.id
        uow.commit()
    return draft_id


def notes_of(crm: HubSpotConnector, hubspot_id: str) -> list[str]:
    return [n.properties["hs_note_body"] or "" for n in
            crm.engagements_for_contact("notes", hubspot_id, properties=["hs_note_body"])]


def test_sent_email_appears_once_as_a_note_on_the_hubspot_contact(services: Services, admin: Actor,
                                                                  hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    contact_id, hubspot_id = linked_contact(services, admin, crm, hub)
    draft_id = sent_email(services, contact_id)
    entry = timeline.log_email_to_hubspot(services.uow, crm, actor=admin, draft_id=draft_id)
    again = timeline.log_email_to_hubspot(services.uow, crm, actor=admin, draft_id=draft_id)
    assert entry.status is TimelineStatus.sent and again.hubspot_id == entry.hubspot_id
    (note,) = notes_of(crm, hubspot_id)
    assert "Email sent: Quick idea for Acme" in note and "Short note." in note


def test_task_lands_on_the_contact_with_hubspots_priority_and_type(services: Services, admin: Actor,
                                                                   hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    contact_id, hubspot_id = linked_contact(services, admin, crm, hub)
    with services.uow() as uow:
        task = Task(title="Call Ann about pricing", description="She asked for tiers", contact_id=contact_id,
                    type=TaskType.call, priority=TaskPriority.urgent, due_at=datetime.now(UTC) + timedelta(days=1))
        uow.session.add(task)
        uow.session.flush()
        task_id = task.id
        uow.commit()
    entry = timeline.push_task_to_hubspot(services.uow, crm, actor=admin, task_id=task_id)
    assert entry.status is TimelineStatus.sent
    (pushed,) = crm.engagements_for_contact("tasks", hubspot_id, properties=[
        "hs_task_subject", "hs_task_priority", "hs_task_type", "hs_task_status"])
    assert pushed.properties == {**pushed.properties, "hs_task_subject": "Call Ann about pricing",
                                 "hs_task_priority": "HIGH", "hs_task_type": "CALL", "hs_task_status": "NOT_STARTED"}


def test_unsent_email_and_unlinked_contact_are_skipped_with_the_reason(services: Services, admin: Actor,
                                                                      hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    contact_id, _ = linked_contact(services, admin, crm, hub)
    unsent = timeline.log_email_to_hubspot(services.uow, crm, actor=admin, draft_id=sent_email(
        services, contact_id, sent=False))
    stranger = factories.contact(services, admin, email="nobody@elsewhere.com")
    unlinked = timeline.log_email_to_hubspot(services.uow, crm, actor=admin,
                                             draft_id=sent_email(services, stranger.id))
    assert (unsent.status, unsent.message) == (TimelineStatus.skipped, "the email has not been sent")
    assert unlinked.status is TimelineStatus.skipped and "not linked" in (unlinked.message or "")
    assert not hub.objects["notes"]


def test_lost_answer_is_resolved_from_hubspot_not_by_a_second_note(services: Services, admin: Actor,
                                                                   hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    contact_id, hubspot_id = linked_contact(services, admin, crm, hub)
    draft_id = sent_email(services, contact_id)
    hub.fail_next("timeout")  # HubSpot creates the note, but answers after our client gave up
    with pytest.raises(ConnectorError) as caught:
        timeline.log_email_to_hubspot(services.uow, crm, actor=admin, draft_id=draft_id)
    assert caught.value.retryable
    deadline = time.monotonic() + 5
    while not hub.objects["notes"] and time.monotonic() < deadline:
        time.sleep(0.02)
    retried = timeline.log_email_to_hubspot(services.uow, crm, actor=admin, draft_id=draft_id)
    assert retried.status is TimelineStatus.sent and retried.attempts == 2
    assert len(notes_of(crm, hubspot_id)) == 1 and retried.hubspot_id == next(iter(hub.objects["notes"]))
