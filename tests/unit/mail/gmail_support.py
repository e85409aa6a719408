"""Shared by the Gmail inbound tests: a Gmail mailbox on the fake, one message sent from it, and its reply."""

from __future__ import annotations

from email.message import EmailMessage

from core.auth.actor import Actor
from core.content.drafts import create_draft, transition_draft
from core.content.models import DraftStatus
from core.content.schemas import DraftInput
from core.mail import pipeline
from core.mail.ledger import queue_approved_draft_for_sending
from core.mail.mailboxes import create_mailbox
from core.mail.schemas import LedgerEntryView, MailboxInput, MailboxView
from core.services import Services
from tests import factories
from tests.fakes.gmail_api import FakeGmail
from tests.unit.mail.conftest import POSTAL

MAILBOX = "riley@acme-sales.example"


def gmail_mailbox(services: Services, admin: Actor, gmail: FakeGmail) -> MailboxView:
    return create_mailbox(services.uow(), actor=admin, settings=services.settings, data=MailboxInput(
        email=MAILBOX, kind="gmail", from_name="Riley Rep", postal_address=POSTAL,
        credentials={"token": gmail.token, "refresh_token": "1//refresh"}))


def sent_through_gmail(services: Services, admin: Actor, mailbox_id: int) -> LedgerEntryView:
    contact = factories.contact(services, admin)
    draft = create_draft(services.uow(), actor=admin, data=DraftInput(
        contact_id=contact.id, subject="Cutting freight costs", body="Hi John,\n\nWorth a chat?"))
    transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.approved)
    entry = queue_approved_draft_for_sending(services.uow(), actor=admin, draft_id=draft.id, mailbox_id=mailbox_id)
    assert pipeline.deliver(services, entry.id, owner="test").outcome == "sent"
    return entry


def reply_to(entry: LedgerEntryView, message_id: str, text: str = "Yes, interested - can we talk on Tuesday?") -> bytes:
    reply = EmailMessage()
    reply["From"] = f"John <{entry.to_email}>"
    reply["To"] = MAILBOX
    reply["Subject"] = "Re: Cutting freight costs"
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = entry.message_id
    reply["References"] = entry.message_id
    reply.set_content(text)
    return reply.as_bytes()
