"""Gmail through the official google-api-python-client against a fake Gmail API on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from email import message_from_bytes

import pytest

from core.auth.actor import Actor
from core.mail import pipeline
from core.mail.mailboxes import create_mailbox
from core.mail.models import SendLedgerEntry, SendStatus
from core.mail.schemas import MailboxInput, MailboxView
from core.services import Services
from tests.fakes.gmail_api import FakeGmail
from tests.unit.mail.conftest import POSTAL, QueueDraft


@pytest.fixture
def gmail() -> Iterator[FakeGmail]:
    with FakeGmail() as fake:
        yield fake


@pytest.fixture
def gmail_services(services: Services, gmail: FakeGmail) -> Services:
    services.settings.gmail_api_base = gmail.base_url
    return services


@pytest.fixture
def gmail_mailbox(gmail_services: Services, admin: Actor, gmail: FakeGmail) -> MailboxView:
    return create_mailbox(gmail_services.uow(), actor=admin, settings=gmail_services.settings, data=MailboxInput(
        email="riley@acme-sales.example", kind="gmail", from_name="Riley Rep", postal_address=POSTAL,
        credentials={"token": gmail.token, "refresh_token": "1//refresh"}))


def row(services: Services, entry_id: int) -> tuple[SendStatus, str | None, str | None]:
    with services.uow() as uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        assert entry is not None
        return entry.status, entry.provider_message_id, entry.thread_id


def test_gmail_send_posts_raw_once_and_records_ids(gmail_services: Services, gmail: FakeGmail,
                                                   gmail_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    assert pipeline.deliver(gmail_services, entry.id, owner="w").outcome == "sent"
    (stored,) = gmail.messages
    assert stored["message_id"] == entry.message_id
    assert message_from_bytes(stored["raw"])["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert row(gmail_services, entry.id) == (SendStatus.sent, stored["id"], stored["threadId"])


def test_follow_up_goes_into_the_same_gmail_thread(gmail_services: Services, admin: Actor, gmail: FakeGmail,
                                                   gmail_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    first = queue_draft()
    pipeline.deliver(gmail_services, first.id, owner="w")
    follow_up = queue_draft(subject="Re: Cutting freight costs", follow_up_of=first.id)
    assert pipeline.deliver(gmail_services, follow_up.id, owner="w").outcome == "sent"
    first_stored, second_stored = gmail.messages
    assert second_stored["threadId"] == first_stored["threadId"]
    headers = message_from_bytes(second_stored["raw"])
    assert headers["In-Reply-To"] == first.message_id and first.message_id in headers["References"]


def test_rate_limit_is_retried_later_not_resent_now(gmail_services: Services, gmail: FakeGmail,
                                                    gmail_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    gmail.next_send.append("429")
    result = pipeline.deliver(gmail_services, entry.id, owner="w")
    assert result.outcome == "retry" and result.retry_at is not None
    assert [r for r in gmail.requests if r[0] == "POST"] == [("POST", "/gmail/v1/users/me/messages/send")]
    assert row(gmail_services, entry.id)[0] is SendStatus.pending


def test_timeout_after_gmail_kept_the_message_is_resolved_by_rfc822msgid(
        gmail_services: Services, gmail: FakeGmail, gmail_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    gmail.next_send.append("drop_after")
    assert pipeline.deliver(gmail_services, entry.id, owner="w").outcome == "unknown"
    sends = [r for r in gmail.requests if r == ("POST", "/gmail/v1/users/me/messages/send")]
    assert len(sends) == 1  # no client retry, no httplib2 reconnect-and-resend
    assert pipeline.resolve_unknown(gmail_services, entry.id) == "sent"
    assert gmail.sent_message_ids() == [entry.message_id]
    assert row(gmail_services, entry.id)[0] is SendStatus.sent


def test_message_missing_from_gmail_long_after_a_timeout_is_sent_again_once(
        gmail_services: Services, gmail: FakeGmail, gmail_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    gmail.next_send.append("drop_before")
    assert pipeline.deliver(gmail_services, entry.id, owner="w").outcome == "unknown"
    assert pipeline.resolve_unknown(gmail_services, entry.id) == "still_unknown"  # too soon to conclude
    start = gmail_services.clock()
    gmail_services.clock = lambda: start + pipeline.ledger.unknown_settle(gmail_services.settings) * 2
    assert pipeline.resolve_unknown(gmail_services, entry.id) == "requeued"
    assert pipeline.deliver(gmail_services, entry.id, owner="w2").outcome == "sent"
    assert gmail.sent_message_ids() == [entry.message_id]


def test_revoked_token_fails_without_retry(gmail_services: Services, admin: Actor, gmail: FakeGmail,
                                           queue_draft: QueueDraft) -> None:
    mailbox = create_mailbox(gmail_services.uow(), actor=admin, settings=gmail_services.settings, data=MailboxInput(
        email="old@acme-sales.example", kind="gmail", postal_address=POSTAL, credentials={"token": "revoked"}))
    entry = queue_draft(mailbox_id=mailbox.id)
    assert pipeline.deliver(gmail_services, entry.id, owner="w").outcome == "failed"
    assert gmail.messages == []


def test_mailbox_preferring_drafts_creates_a_gmail_draft(gmail_services: Services, admin: Actor, gmail: FakeGmail,
                                                         queue_draft: QueueDraft) -> None:
    mailbox = create_mailbox(gmail_services.uow(), actor=admin, settings=gmail_services.settings, data=MailboxInput(
        email="drafts@acme-sales.example", kind="gmail", postal_address=POSTAL, gmail_prefers_drafts=True,
        credentials={"token": gmail.token}))
    entry = queue_draft(mailbox_id=mailbox.id)
    assert pipeline.deliver(gmail_services, entry.id, owner="w").outcome == "sent"
    assert [m["labelIds"] for m in gmail.messages] == [["DRAFT"]]
    assert ("POST", "/gmail/v1/users/me/drafts") in gmail.requests


def test_credentials_are_encrypted_at_rest(gmail_services: Services, gmail_mailbox: MailboxView,
                                           gmail: FakeGmail) -> None:
    from core.mail.models import Mailbox

    with gmail_services.uow() as uow:
        blob = uow.session.get(Mailbox, gmail_mailbox.id).credentials_encrypted
    assert blob and gmail.token.encode() not in blob and b"refresh" not in base64.urlsafe_b64decode(blob)
