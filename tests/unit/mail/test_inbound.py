"""The inbound pipeline: replies matched to what we sent, auto-replies, bounces, complaints and their effects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.auth.actor import Actor
from core.campaigns.models import CampaignMember
from core.campaigns.schemas import CampaignInput
from core.campaigns.service import add_contacts, create_campaign
from core.content.drafts import create_draft, transition_draft
from core.content.models import DraftStatus
from core.content.schemas import DraftInput
from core.crm.models import Suppression, SuppressionReason, Task
from core.mail import ledger, pipeline
from core.mail.inbound import process_inbound_mail
from core.mail.models import EventType, InboundMessage, MessageEvent, Notification, SendLedgerEntry, SendStatus
from core.mail.schemas import LedgerEntryView, MailboxView
from core.mail.simulated import SentFacts, auto_reply_to, bounce_for, complaint_for, reply_to, sent_facts
from core.services import Services
from tests import factories
from tests.unit.mail.conftest import QueueDraft


def sent(services: Services, queue_draft: QueueDraft, **fields: object) -> LedgerEntryView:
    entry = queue_draft(**fields)
    assert pipeline.deliver(services, entry.id, owner="w1").outcome == "sent"
    return entry


def suppressions(services: Services) -> set[tuple[str, SuppressionReason]]:
    with services.uow() as uow:
        return {(s.email, s.reason) for s in uow.session.scalars(select(Suppression))}


def events(services: Services, entry_id: int) -> list[EventType]:
    with services.uow() as uow:
        return [e.type for e in uow.session.scalars(
            select(MessageEvent).where(MessageEvent.ledger_entry_id == entry_id).order_by(MessageEvent.id))]


def test_reply_is_matched_by_in_reply_to_and_keeps_only_the_new_text(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft)
    view = process_inbound_mail(services, reply_to(sent_facts(services, entry.id), "Thanks, not right now."),
                                source="test")
    assert view.kind == "reply" and view.ledger_entry_id == entry.id and view.contact_id is not None
    assert view.text == "Thanks, not right now."
    assert events(services, entry.id) == [EventType.reply]


def test_reply_is_matched_by_references_when_in_reply_to_is_missing(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft)
    facts = sent_facts(services, entry.id)
    raw = reply_to(facts, "Tell me more.").replace(f"In-Reply-To: {facts.message_id}\r\n".encode(), b"")
    assert process_inbound_mail(services, raw, source="test").ledger_entry_id == entry.id


def test_reply_is_matched_by_gmail_thread_when_headers_were_stripped(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft)
    other = SentFacts(message_id="<unrelated@x.example>", to_email="someone@else.example",
                      from_email="demo@acme-sales.example", subject="Hello", body="Hi")
    with services.uow() as uow:
        thread_id = uow.session.get(SendLedgerEntry, entry.id).thread_id  # type: ignore[union-attr]
    view = process_inbound_mail(services, reply_to(other, "Sure."), source="gmail", thread_id=thread_id)
    assert view.ledger_entry_id == entry.id


def test_auto_reply_is_recognised_and_not_counted_as_a_reply(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft)
    view = process_inbound_mail(services, auto_reply_to(sent_facts(services, entry.id)), source="test")
    assert view.kind == "auto_reply" and view.intent == "out_of_office"
    assert events(services, entry.id) == [EventType.auto_reply]


def test_interested_reply_creates_a_task_and_a_notification_for_the_owner(
        services: Services, admin: Actor, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft)
    view = process_inbound_mail(services, reply_to(sent_facts(services, entry.id),
                                                   "Sounds great, let's talk Thursday at 3pm."), source="test")
    assert view.intent == "interested" and view.sentiment == "positive" and view.task_id is not None
    with services.uow() as uow:
        task = uow.session.get(Task, view.task_id)
        assert task is not None and (task.assignee_id, task.contact_id) == (admin.user_id, view.contact_id)
        notes = [(n.user_id, n.kind) for n in uow.session.scalars(select(Notification))]
    assert notes == [(admin.user_id, "interested_reply")]


def test_please_remove_me_suppresses_the_address_and_the_next_send_is_refused(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft, email="ana@northwind.example")
    view = process_inbound_mail(services, reply_to(sent_facts(services, entry.id), "Please remove me from your list."),
                                source="test")
    assert view.intent == "unsubscribe_request"
    assert ("ana@northwind.example", SuppressionReason.unsubscribed) in suppressions(services)
    again = queue_draft(email="ana@northwind.example", subject="Second try")
    assert pipeline.deliver(services, again.id, owner="w1").outcome == "refused"


def test_hard_bounce_dsn_suppresses_the_address_as_bounced(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft, email="gone@northwind.example")
    view = process_inbound_mail(services, bounce_for(sent_facts(services, entry.id)), source="test")
    assert (view.kind, view.status_code, view.ledger_entry_id) == ("bounce", "5.1.1", entry.id)
    assert suppressions(services) == {("gone@northwind.example", SuppressionReason.bounced)}
    assert events(services, entry.id) == [EventType.bounce]


def test_soft_bounce_counts_and_the_message_is_sent_again_later(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft)
    raw = bounce_for(sent_facts(services, entry.id), status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full")
    view = process_inbound_mail(services, raw, source="test")
    assert view.kind == "soft_bounce" and not suppressions(services)
    with services.uow() as uow:
        row = uow.session.get(SendLedgerEntry, entry.id)
        assert row is not None
        assert (row.status, row.soft_bounces) == (SendStatus.pending, 1)
    assert entry.id not in ledger.sweep_send_ledger(services.uow(), now=services.clock()).to_send
    later = ledger.sweep_send_ledger(services.uow(), now=services.clock() + timedelta(hours=1, minutes=1))
    assert entry.id in later.to_send


def test_delayed_dsn_counts_a_soft_bounce_without_resending(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft)
    process_inbound_mail(services, bounce_for(sent_facts(services, entry.id), status="4.4.1", action="delayed"),
                         source="test")
    with services.uow() as uow:
        row = uow.session.get(SendLedgerEntry, entry.id)
        assert row is not None and (row.status, row.soft_bounces) == (SendStatus.sent, 1)


def test_arf_abuse_report_suppresses_the_address_as_complained(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft, email="angry@northwind.example")
    view = process_inbound_mail(services, complaint_for(sent_facts(services, entry.id)), source="test")
    assert view.kind == "complaint" and view.ledger_entry_id == entry.id
    assert suppressions(services) == {("angry@northwind.example", SuppressionReason.complained)}


def test_the_same_message_twice_is_recorded_once(
        services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = sent(services, queue_draft)
    raw = reply_to(sent_facts(services, entry.id), "Let's talk.")
    first = process_inbound_mail(services, raw, source="test")
    second = process_inbound_mail(services, raw, source="gmail")
    assert not first.duplicate and second.duplicate and second.id == first.id
    with services.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(InboundMessage)) == 1
        assert uow.session.scalar(select(func.count()).select_from(Task)) == 1


def test_reply_stamps_the_campaign_member_as_replied(services: Services, admin: Actor,
                                                     outbox_mailbox: MailboxView) -> None:
    contact = factories.contact(services, admin)
    campaign = create_campaign(services.uow(), actor=admin, data=CampaignInput(name="Q3 freight"))
    add_contacts(services.uow(), actor=admin, campaign_id=campaign.id, contact_ids=[contact.id])
    draft = create_draft(services.uow(), actor=admin, data=DraftInput(
        contact_id=contact.id, subject="Freight", body="Hi John, worth a chat?", campaign_id=campaign.id))
    transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.approved)
    entry = ledger.queue_approved_draft_for_sending(services.uow(), actor=admin, draft_id=draft.id)
    pipeline.deliver(services, entry.id, owner="w1")
    process_inbound_mail(services, reply_to(sent_facts(services, entry.id), "Got it, thanks."), source="test")
    with services.uow() as uow:
        member = uow.session.get(CampaignMember, (campaign.id, contact.id))
        assert member is not None and member.replied_at is not None


def test_mail_from_a_stranger_is_kept_as_unmatched(services: Services) -> None:
    stranger = SentFacts(message_id="<nope@x.example>", to_email="who@nowhere.example",
                         from_email="demo@acme-sales.example", subject="Hi", body="Hi")
    view = process_inbound_mail(services, reply_to(stranger, "Who are you?"), source="test")
    assert view.kind == "unmatched" and view.ledger_entry_id is None
