"""Human opens and clicks written from the buffer stamp the campaign member, so campaign statistics count them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.auth.actor import Actor
from core.campaigns import service as campaigns
from core.campaigns.schemas import CampaignInput
from core.content.drafts import create_draft, transition_draft
from core.content.models import DraftStatus
from core.content.schemas import DraftInput
from core.mail import pipeline
from core.mail.ledger import queue_approved_draft_for_sending
from core.mail.models import EventType, SendLedgerEntry, TrackedLink
from core.mail.schemas import MailboxView
from core.mail.tracking import record_tracking_events, tracking_event
from core.services import Services
from tests import factories

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"


def test_human_opens_and_clicks_reach_campaign_statistics_once(services: Services, admin: Actor,
                                                               outbox_mailbox: MailboxView) -> None:
    campaign = campaigns.create_campaign(services.uow(), actor=admin, data=CampaignInput(name="Freight Q3"))
    people = [factories.contact(services, admin) for _ in range(2)]
    campaigns.add_contacts(services.uow(), actor=admin, campaign_id=campaign.id, contact_ids=[p.id for p in people])
    events = []
    for person in people:
        draft = create_draft(services.uow(), actor=admin, data=DraftInput(
            contact_id=person.id, campaign_id=campaign.id, subject="Freight",
            body="Hi,\n\nhttps://acme-sales.example/case\n\nWorth a chat?"))
        transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.approved)
        entry = queue_approved_draft_for_sending(services.uow(), actor=admin, draft_id=draft.id,
                                                 mailbox_id=outbox_mailbox.id)
        assert pipeline.deliver(services, entry.id, owner="w").outcome == "sent"
        with services.uow() as uow:
            row = uow.session.get(SendLedgerEntry, entry.id)
            assert row is not None and row.open_token and row.sent_at
            link = uow.session.scalars(select(TrackedLink.token).where(TrackedLink.ledger_entry_id == entry.id)).one()
            token, later = row.open_token, (row.sent_at + timedelta(hours=2)).isoformat()
        for kind, tok in ((EventType.open, token), (EventType.open, token), (EventType.click, link)):
            events.append({**tracking_event(kind, tok, user_agent=BROWSER, ip="203.0.113.9"), "at": later})
    events = events[:5]  # the second person only opens (twice), never clicks
    stored = record_tracking_events(services.uow(), events=events, secret="s" * 32, scanner_seconds=5)
    stats = campaigns.campaign_stats(services.uow(), actor=admin, campaign_id=campaign.id)
    assert stored == 5
    assert (stats.sent, stats.opened, stats.clicked) == (2, 2, 1)
