"""Approving a draft hands it to sending: one ledger row, and the job sends it through the outbox."""

from __future__ import annotations

from types import ModuleType

import pytest
from sqlalchemy import select

from core.auth.actor import Actor
from core.content.drafts import create_draft
from core.content.models import Draft, DraftStatus
from core.content.schemas import DraftInput
from core.errors import PermissionDenied
from core.mail.approval import approve_and_queue
from core.mail.models import OutboxMessage, SendLedgerEntry, SendStatus
from core.mail.schemas import MailboxView
from core.services import Services
from tests import factories


def draft_status(services: Services, draft_id: int) -> DraftStatus:
    with services.uow() as uow:
        draft = uow.session.get(Draft, draft_id)
        assert draft is not None
        return draft.status


def new_draft(services: Services, actor: Actor) -> int:
    contact = factories.contact(services, actor)
    return create_draft(services.uow(), actor=actor, data=DraftInput(
        contact_id=contact.id, subject="Freight at Northwind", body="Hi John,\n\nWorth a chat?")).id


def test_approving_a_draft_writes_one_pending_ledger_row(services: Services, admin: Actor,
                                                         outbox_mailbox: MailboxView) -> None:
    draft_id = new_draft(services, admin)
    entry = approve_and_queue(services.uow(), actor=admin, draft_id=draft_id)
    again = approve_and_queue(services.uow(), actor=admin, draft_id=draft_id)
    assert entry.id == again.id and entry.status is SendStatus.pending and entry.mailbox_id == outbox_mailbox.id
    assert draft_status(services, draft_id) is DraftStatus.approved


def test_a_viewer_cannot_approve_for_sending(services: Services, admin: Actor, viewer: Actor,
                                             outbox_mailbox: MailboxView) -> None:
    draft_id = new_draft(services, admin)
    with pytest.raises(PermissionDenied):
        approve_and_queue(services.uow(), actor=viewer, draft_id=draft_id)


def test_approve_and_send_job_delivers_through_the_outbox(jobs: ModuleType, services: Services, admin: Actor,
                                                          outbox_mailbox: MailboxView) -> None:
    from jobs import huey_app, sending

    draft_id = new_draft(services, admin)
    with huey_app.running_against(services, huey_app.make_huey(services.settings)):
        sending.approve_and_send_draft(draft_id, admin.user_id)
    with services.uow() as uow:
        entry = uow.session.scalar(select(SendLedgerEntry).where(SendLedgerEntry.draft_id == draft_id))
        assert entry is not None and entry.status is SendStatus.sent
        assert uow.session.scalar(select(OutboxMessage.message_id)) == entry.message_id
    assert draft_status(services, draft_id) is DraftStatus.sent
