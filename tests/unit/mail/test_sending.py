"""The send pipeline through the real SMTP transport to an aiosmtpd sink: exactly once, checks at claim time."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from core.auth.actor import Actor
from core.content.drafts import list_drafts
from core.content.models import DraftStatus
from core.crm.models import SuppressionReason
from core.crm.service import suppress_email
from core.errors import Conflict
from core.mail import ledger, pipeline
from core.mail.models import SendLedgerEntry, SendStatus
from core.mail.schemas import LedgerEntryView, MailboxView
from core.services import Services
from tests.fakes.smtp_sink import SmtpSink
from tests.unit.mail.conftest import QueueDraft


def status_of(services: Services, entry_id: int) -> LedgerEntryView:
    with services.uow() as uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        assert entry is not None
        return LedgerEntryView.model_validate(entry)


def test_approved_draft_is_sent_once_and_marked_sent(services: Services, admin: Actor, sink: SmtpSink,
                                                      smtp_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    assert pipeline.deliver(services, entry.id, owner="w1").outcome == "sent"
    assert pipeline.deliver(services, entry.id, owner="w2").outcome == "busy"
    assert sink.handler.message_ids() == [entry.message_id]
    row = status_of(services, entry.id)
    assert row.status is SendStatus.sent and row.provider_message_id and row.sent_at
    assert [d.status for d in list_drafts(services.uow(), actor=admin)] == [DraftStatus.sent]


def test_queueing_the_same_draft_twice_gives_one_ledger_row(services: Services, admin: Actor,
                                                           smtp_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    again = ledger.queue_approved_draft_for_sending(services.uow(), actor=admin, draft_id=entry.draft_id)
    assert again.id == entry.id


def test_sent_message_carries_unsubscribe_headers_footer_and_tracking(
        services: Services, sink: SmtpSink, smtp_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    pipeline.deliver(services, entry.id, owner="w1")
    message = message_from_bytes(sink.handler.messages[0], policy=policy.default)
    base = services.settings.public_base_url
    assert message["List-Unsubscribe"].strip().startswith(f"<{base}/u/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == entry.message_id
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "12 Harbour Street" in text and "Unsubscribe: " + base + "/u/" in text
    assert f'{base}/o/' in html and ".gif" in html
    assert 'href="https://acme-sales.example/case"' not in html
    assert f'href="{base}/c/' in html


def test_suppressed_address_is_never_sent(services: Services, admin: Actor, sink: SmtpSink,
                                          smtp_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    suppress_email(services.uow(), actor=admin, email=entry.to_email, reason=SuppressionReason.unsubscribed)
    assert pipeline.deliver(services, entry.id, owner="w1").outcome == "refused"
    assert sink.handler.messages == []
    row = status_of(services, entry.id)
    assert row.status is SendStatus.failed and "suppressed" in (row.last_error or "")


def test_deceptive_re_subject_on_a_first_email_is_refused(services: Services, sink: SmtpSink,
                                                          smtp_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft(subject="Re: our call")
    assert pipeline.deliver(services, entry.id, owner="w1").outcome == "refused"
    assert sink.handler.messages == []
    assert "pretends to be a reply" in (status_of(services, entry.id).last_error or "")


def test_daily_cap_defers_to_tomorrow(services: Services, admin: Actor, sink: SmtpSink, queue_draft: QueueDraft) -> None:
    from core.mail.mailboxes import create_mailbox
    from tests.unit.mail.conftest import smtp_mailbox_input

    mailbox = create_mailbox(services.uow(), actor=admin, settings=services.settings,
                             data=smtp_mailbox_input(sink.port, daily_cap=1))
    first, second = queue_draft(mailbox_id=mailbox.id), queue_draft(mailbox_id=mailbox.id)
    assert pipeline.deliver(services, first.id, owner="w1").outcome == "sent"
    result = pipeline.deliver(services, second.id, owner="w1")
    assert result.outcome == "deferred" and result.retry_at is not None
    assert result.retry_at > services.clock() + timedelta(minutes=1)
    assert len(sink.handler.messages) == 1 and status_of(services, second.id).status is SendStatus.pending


def test_outside_the_send_window_waits_for_it(services: Services, admin: Actor, sink: SmtpSink,
                                              queue_draft: QueueDraft) -> None:
    from core.mail.mailboxes import create_mailbox
    from tests.unit.mail.conftest import smtp_mailbox_input

    hour = services.clock().hour
    start = (hour + 2) % 24
    mailbox = create_mailbox(services.uow(), actor=admin, settings=services.settings, data=smtp_mailbox_input(
        sink.port, window_start_hour=min(start, 22), window_end_hour=min(start, 22) + 1))
    entry = queue_draft(mailbox_id=mailbox.id)
    assert pipeline.deliver(services, entry.id, owner="w1").outcome == "deferred"
    assert sink.handler.messages == []


def test_temporary_refusal_retries_later_and_then_sends(services: Services, sink: SmtpSink,
                                                        smtp_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    sink.handler.refuse_data_next.append("451 4.3.0 try again later")
    result = pipeline.deliver(services, entry.id, owner="w1")
    assert result.outcome == "retry" and result.retry_at is not None
    later = result.retry_at + timedelta(seconds=1)
    services.clock = lambda: later
    assert pipeline.deliver(services, entry.id, owner="w2").outcome == "sent"
    assert sink.handler.message_ids() == [entry.message_id]


def test_permanent_refusal_fails_with_the_reason(services: Services, sink: SmtpSink, smtp_mailbox: MailboxView,
                                                 queue_draft: QueueDraft) -> None:
    entry = queue_draft(email="gone@acme-logistics.com")
    sink.handler.refuse_rcpt["gone@acme-logistics.com"] = "550 5.1.1 no such user"
    assert pipeline.deliver(services, entry.id, owner="w1").outcome == "failed"
    assert "550" in (status_of(services, entry.id).last_error or "")


def test_expired_sending_lease_becomes_unknown_and_is_never_resent_blindly(
        services: Services, admin: Actor, sink: SmtpSink, smtp_mailbox: MailboxView, queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    now = services.clock()
    assert ledger.claim_send(services.uow(), entry_id=entry.id, owner="dead", now=now, lease=timedelta(seconds=1))
    ledger.prepare_send(services.uow(), settings=services.settings, entry_id=entry.id, owner="dead", now=now)
    swept = ledger.sweep_send_ledger(services.uow(), now=now + timedelta(seconds=5))
    assert swept.to_resolve == [entry.id] and swept.to_send == []
    assert pipeline.deliver(services, entry.id, owner="w2").outcome == "busy"
    assert pipeline.resolve_unknown(services, entry.id) == "needs_review"
    assert sink.handler.messages == []
    with pytest.raises(Conflict):  # too early: the hand-over might still complete
        ledger.review_unknown_send(services.uow(), actor=admin, settings=services.settings, entry_id=entry.id,
                                   delivered=False)
    reviewed = ledger.review_unknown_send(services.uow(), actor=admin, settings=services.settings, entry_id=entry.id,
                                          delivered=True)
    assert reviewed.status is SendStatus.sent


def test_expired_claim_is_taken_back_and_sent(services: Services, sink: SmtpSink, smtp_mailbox: MailboxView,
                                              queue_draft: QueueDraft) -> None:
    entry = queue_draft()
    now = services.clock()
    assert ledger.claim_send(services.uow(), entry_id=entry.id, owner="dead", now=now, lease=timedelta(seconds=1))
    later = now + timedelta(minutes=2)
    services.clock = lambda: later
    swept = ledger.sweep_send_ledger(services.uow(), now=later)
    assert swept.to_send == [entry.id]
    assert pipeline.deliver(services, entry.id, owner="w2").outcome == "sent"
    assert len(sink.handler.messages) == 1
