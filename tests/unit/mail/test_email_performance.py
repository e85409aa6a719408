"""Email performance: counts and rates from the ledger and events; the API behind read:analytics."""

from __future__ import annotations

from datetime import timedelta

from core.auth.actor import Actor
from core.auth.models import Role
from core.mail import pipeline
from core.mail.analytics import email_performance
from core.mail.models import Classification, EventType, MessageEvent
from core.mail.schemas import MailboxView
from core.services import Services
from public_endpoints import create_app
from tests.public.api_helpers import api_key, api_user
from tests.unit.mail.conftest import QueueDraft


def add_event(services: Services, entry_id: int, kind: EventType, label: Classification = Classification.human) -> None:
    with services.uow() as uow:
        uow.session.add(MessageEvent(ledger_entry_id=entry_id, type=kind, classification=label))
        uow.commit()


def three_sent(services: Services, queue_draft: QueueDraft) -> list[int]:
    ids = [queue_draft().id for _ in range(3)]
    for entry_id in ids:
        pipeline.deliver(services, entry_id, owner="w1")
    add_event(services, ids[0], EventType.open)
    add_event(services, ids[0], EventType.open)  # a second open of the same message is not a second open
    add_event(services, ids[0], EventType.click)
    add_event(services, ids[0], EventType.reply)
    add_event(services, ids[1], EventType.open, Classification.apple_proxy)
    add_event(services, ids[2], EventType.bounce)
    return ids


def test_counts_and_rates_separate_human_from_machine_opens(services: Services, admin: Actor,
                                                            outbox_mailbox: MailboxView,
                                                            queue_draft: QueueDraft) -> None:
    three_sent(services, queue_draft)
    now = services.clock()
    report = email_performance(services.uow(), actor=admin, since=now - timedelta(days=1),
                               until=now + timedelta(minutes=1), group_by="mailbox")
    t = report.totals
    assert (t.sent, t.delivered, t.human_opens, t.machine_opens, t.clicks, t.replies, t.bounces) == (3, 2, 1, 1, 1, 1, 1)
    assert t.rates["open_rate"] == 0.5 and round(t.rates["bounce_rate"], 3) == 0.333
    assert [g.key for g in report.groups] == [str(outbox_mailbox.id)] and len(report.by_day) == 1


def test_api_reports_email_performance_for_a_read_analytics_key(services: Services, outbox_mailbox: MailboxView,
                                                                queue_draft: QueueDraft) -> None:
    three_sent(services, queue_draft)
    user = api_user(services, "mgr@example.com", Role.manager)
    client = create_app(services.settings, services).test_client()
    good = client.get("/api/v1/analytics/email-performance?group_by=campaign",
                      headers={"X-API-Key": api_key(services, user, "read:analytics")})
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["totals"]["sent"] == 3 and good.get_json()["totals"]["reply_rate"] == 0.5
    narrow = client.get("/api/v1/analytics/email-performance",
                        headers={"X-API-Key": api_key(services, user, "read:contacts")})
    assert narrow.status_code == 403
    assert client.get("/api/v1/analytics/email-performance").status_code == 401
