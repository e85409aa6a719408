"""Mail fixtures: an SMTP sink on 127.0.0.1, mailboxes, and approved drafts queued in the send ledger."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email import message_from_string, policy

import pytest
from sqlalchemy import select

from core.auth.actor import Actor
from core.content.drafts import create_draft, transition_draft
from core.content.models import DraftStatus
from core.content.schemas import DraftInput
from core.mail import pipeline
from core.mail.ledger import queue_approved_draft_for_sending
from core.mail.mailboxes import create_mailbox
from core.mail.models import OutboxMessage
from core.mail.schemas import LedgerEntryView, MailboxInput, MailboxView
from core.services import Services
from tests import factories
from tests.fakes.smtp_sink import SmtpSink

POSTAL = "Acme Sales Ltd, 12 Harbour Street, Bristol BS1 4RN, United Kingdom"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


def smtp_mailbox_input(port: int, **fields: object) -> MailboxInput:
    values: dict[str, object] = {"email": "riley@acme-sales.example", "kind": "smtp", "from_name": "Riley Rep",
                                 "postal_address": POSTAL, "daily_cap": 5000, "smtp_host": "127.0.0.1",
                                 "smtp_port": port, "smtp_security": "none", "signature": "Riley\nAcme Sales"}
    values.update(fields)
    return MailboxInput.model_validate(values)


@pytest.fixture
def smtp_mailbox(services: Services, admin: Actor, sink: SmtpSink) -> MailboxView:
    return create_mailbox(services.uow(), actor=admin, settings=services.settings,
                          data=smtp_mailbox_input(sink.port))


@pytest.fixture
def outbox_mailbox(services: Services, admin: Actor) -> MailboxView:
    return create_mailbox(services.uow(), actor=admin, settings=services.settings, data=MailboxInput(
        email="demo@acme-sales.example", kind="outbox", from_name="Demo Rep", postal_address=POSTAL))


QueueDraft = Callable[..., LedgerEntryView]


@pytest.fixture
def queue_draft(services: Services, admin: Actor) -> QueueDraft:
    def make(*, mailbox_id: int | None = None, subject: str = "Cutting freight costs at {company}",
             body: str = "Hi John,\n\nWe cut freight costs 12% for Northwind: https://acme-sales.example/case\n\nWorth a chat?",
             email: str | None = None, **queue: object) -> LedgerEntryView:
        contact = factories.contact(services, admin, **({"email": email} if email else {}))
        draft = create_draft(services.uow(), actor=admin, data=DraftInput(contact_id=contact.id, subject=subject,
                                                                         body=body))
        transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.approved)
        return queue_approved_draft_for_sending(services.uow(), actor=admin, draft_id=draft.id,
                                                mailbox_id=mailbox_id, **queue)  # type: ignore[arg-type]
    return make


def send_and_read_paths(services: Services, queue_draft: QueueDraft) -> dict[str, str]:
    """One message through the outbox transport; the pixel, click and unsubscribe paths a recipient sees in it."""
    entry = queue_draft()
    assert pipeline.deliver(services, entry.id, owner="w").outcome == "sent"
    with services.uow() as uow:
        raw = uow.session.scalars(select(OutboxMessage.raw)).one()  # the only message sent
    html = message_from_string(raw, policy=policy.default).get_body(("html",)).get_content()  # type: ignore[union-attr]
    base = re.escape(services.settings.public_base_url)

    def path(prefix: str) -> str:
        found = re.search(base + rf'(/{prefix}/[^"]+)', html)
        assert found is not None, f"no /{prefix}/ link in the message"
        return found.group(1)

    return {"pixel": path("o"), "click": path("c"), "unsubscribe": path("u"), "to": entry.to_email}
