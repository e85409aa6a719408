"""Gmail history sync, watch renewal and polling, through the official client against the fake Gmail API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.auth.actor import Actor
from core.mail.gmail_history import maintain_gmail_mailboxes, sync_mailbox_history
from core.mail.gmail_models import GmailMailboxSync
from core.mail.models import InboundKind, InboundMessage
from core.mail.schemas import MailboxView
from core.services import Services, build_services
from tests.fakes.gmail_api import FakeGmail
from tests.unit.mail.gmail_support import MAILBOX, gmail_mailbox, reply_to, sent_through_gmail

TOPIC = "projects/acme-sales/topics/gmail-inbound"


@pytest.fixture
def gmail() -> Iterator[FakeGmail]:
    with FakeGmail() as fake:
        yield fake


@pytest.fixture
def svc(services: Services, gmail: FakeGmail) -> Services:
    return build_services(services.settings.model_copy(update={"gmail_api_base": gmail.base_url}),
                         engine=services.engine)


@pytest.fixture
def mailbox(svc: Services, admin: Actor, gmail: FakeGmail) -> MailboxView:
    return gmail_mailbox(svc, admin, gmail)


def inbound(svc: Services) -> list[tuple[str, InboundKind, int | None, str | None]]:
    with svc.uow() as uow:
        return [(m.message_id, m.kind, m.ledger_entry_id, m.source) for m in
                uow.session.scalars(select(InboundMessage).order_by(InboundMessage.id))]


def state(svc: Services, mailbox_id: int) -> GmailMailboxSync:
    with svc.uow() as uow:
        row = uow.session.get(GmailMailboxSync, mailbox_id)
        assert row is not None
        uow.session.expunge(row)
        return row


def test_first_sync_starts_at_the_current_history_and_takes_in_nothing_older(
        svc: Services, gmail: FakeGmail, mailbox: MailboxView) -> None:
    gmail.deliver(b"Message-ID: <old@customer.example>\r\nFrom: a@b.example\r\nSubject: old\r\n\r\nold mail\r\n")
    result = sync_mailbox_history(svc, email=MAILBOX)
    assert result is not None and (result.recorded, result.history_id) == (0, gmail.history_id)
    assert inbound(svc) == []


def test_reply_after_the_cursor_is_recorded_against_the_sent_message(
        svc: Services, admin: Actor, gmail: FakeGmail, mailbox: MailboxView) -> None:
    sync_mailbox_history(svc, email=MAILBOX)
    entry = sent_through_gmail(svc, admin, mailbox.id)  # our own SENT message lands in history too
    gmail.deliver(reply_to(entry, "<reply-1@acme-logistics.com>"))
    result = sync_mailbox_history(svc, email=MAILBOX)
    assert result is not None and result.recorded == 1
    assert inbound(svc) == [("<reply-1@acme-logistics.com>", InboundKind.reply, entry.id, "gmail")]
    assert state(svc, mailbox.id).history_id == gmail.history_id


def test_syncing_again_records_the_reply_once(svc: Services, admin: Actor, gmail: FakeGmail,
                                              mailbox: MailboxView) -> None:
    sync_mailbox_history(svc, email=MAILBOX)
    entry = sent_through_gmail(svc, admin, mailbox.id)
    gmail.deliver(reply_to(entry, "<reply-1@acme-logistics.com>"))
    sync_mailbox_history(svc, email=MAILBOX)
    with svc.uow() as uow:  # a push and a poll racing: the second starts from the old cursor
        uow.session.get(GmailMailboxSync, mailbox.id).history_id = 1000
        uow.commit()
    again = sync_mailbox_history(svc, email=MAILBOX)
    assert again is not None and again.recorded == 0
    assert len(inbound(svc)) == 1


def test_history_spread_over_pages_is_read_to_the_end(svc: Services, admin: Actor, gmail: FakeGmail,
                                                      mailbox: MailboxView) -> None:
    sync_mailbox_history(svc, email=MAILBOX)
    entry = sent_through_gmail(svc, admin, mailbox.id)
    gmail.history_page_size = 1
    for n in range(3):
        gmail.deliver(reply_to(entry, f"<reply-{n}@acme-logistics.com>", text=f"Question {n}: what does it cost?"))
    result = sync_mailbox_history(svc, email=MAILBOX)
    assert result is not None and result.recorded == 3


def test_cursor_older_than_gmails_history_restarts_from_now(svc: Services, gmail: FakeGmail,
                                                             mailbox: MailboxView) -> None:
    sync_mailbox_history(svc, email=MAILBOX)
    gmail.deliver(b"Message-ID: <gap@customer.example>\r\nFrom: a@b.example\r\nSubject: gap\r\n\r\nlost\r\n")
    gmail.oldest_history_id = gmail.history_id + 1
    result = sync_mailbox_history(svc, email=MAILBOX)
    assert result is not None and result.history_id == gmail.history_id
    assert "expired" in (state(svc, mailbox.id).last_error or "")


def test_unknown_address_is_not_synced(svc: Services, gmail: FakeGmail, mailbox: MailboxView) -> None:
    assert sync_mailbox_history(svc, email="someone-else@acme-sales.example") is None
    assert [r for r in gmail.requests if "/history" in r[1] or "/profile" in r[1]] == []


def test_watch_is_set_up_and_renewed_only_when_it_nears_expiry(svc: Services, gmail: FakeGmail,
                                                                mailbox: MailboxView) -> None:
    svc.settings.gmail_push_topic = TOPIC
    assert maintain_gmail_mailboxes(svc) == (1, 0)
    expires = state(svc, mailbox.id).watch_expires_at
    assert expires is not None and timedelta(days=6) < expires - svc.clock() <= timedelta(days=7)
    assert gmail.watches == [{"topicName": TOPIC, "labelIds": ["INBOX"], "labelFilterBehavior": "INCLUDE"}]
    assert maintain_gmail_mailboxes(svc) == (0, 0)  # six days left: nothing to do
    later = svc.clock() + timedelta(days=6, hours=12)
    svc.clock = lambda: later
    assert maintain_gmail_mailboxes(svc) == (1, 0)
    assert len(gmail.watches) == 2


def test_mailbox_without_a_live_watch_is_polled(svc: Services, admin: Actor, gmail: FakeGmail,
                                                mailbox: MailboxView) -> None:
    assert svc.settings.gmail_push_topic is None
    assert maintain_gmail_mailboxes(svc) == (0, 1)  # first poll sets the cursor
    entry = sent_through_gmail(svc, admin, mailbox.id)
    gmail.deliver(reply_to(entry, "<reply-1@acme-logistics.com>"))
    assert maintain_gmail_mailboxes(svc) == (0, 1)
    assert [m[0] for m in inbound(svc)] == ["<reply-1@acme-logistics.com>"]
    assert gmail.watches == []
