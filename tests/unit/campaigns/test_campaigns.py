"""Campaign contacts and statistics counted from member engagement."""

from __future__ import annotations

import pytest

from core.campaigns import service as campaigns
from core.campaigns.models import CampaignStatus
from core.campaigns.schemas import CampaignInput
from core.errors import Conflict, NotFound, PermissionDenied
from tests import factories


def test_campaign_contacts_are_added_once(services, admin):
    campaign = campaigns.create_campaign(services.uow(), actor=admin, data=CampaignInput(name="Q1 Outbound"))
    people = [factories.contact(services, admin) for _ in range(3)]
    assert campaigns.add_contacts(services.uow(), actor=admin, campaign_id=campaign.id,
                                  contact_ids=[p.id for p in people]) == 3
    assert campaigns.add_contacts(services.uow(), actor=admin, campaign_id=campaign.id,
                                  contact_ids=[people[0].id]) == 0
    assert campaigns.campaign_contact_ids(services.uow(), actor=admin, campaign_id=campaign.id) == sorted(
        p.id for p in people)


def test_stats_are_counted_from_engagement_not_typed_in(services, admin):
    campaign = campaigns.create_campaign(services.uow(), actor=admin, data=CampaignInput(name="Stats"))
    people = [factories.contact(services, admin) for _ in range(4)]
    campaigns.add_contacts(services.uow(), actor=admin, campaign_id=campaign.id, contact_ids=[p.id for p in people])
    for person, events in zip(people, [["sent", "opened", "clicked", "replied"], ["sent", "opened"], ["sent"], []]):
        for event in events:
            campaigns.record_engagement(services.uow(), actor=admin, campaign_id=campaign.id,
                                        contact_id=person.id, event=event)
    # A second open of the same member does not count twice.
    campaigns.record_engagement(services.uow(), actor=admin, campaign_id=campaign.id, contact_id=people[0].id,
                                event="opened")
    stats = campaigns.campaign_stats(services.uow(), actor=admin, campaign_id=campaign.id)
    assert (stats.total_contacts, stats.sent, stats.opened, stats.clicked, stats.replied) == (4, 3, 2, 1, 1)
    assert stats.open_rate == pytest.approx(2 / 3)
    listed = campaigns.list_campaigns(services.uow(), actor=admin)
    assert listed[0].stats == stats


def test_duplicate_campaign_names_are_refused(services, admin):
    campaigns.create_campaign(services.uow(), actor=admin, data=CampaignInput(name="Same"))
    with pytest.raises(Conflict):
        campaigns.create_campaign(services.uow(), actor=admin, data=CampaignInput(name="Same"))


def test_adding_unknown_contacts_changes_nothing(services, admin):
    campaign = campaigns.create_campaign(services.uow(), actor=admin, data=CampaignInput(name="X"))
    person = factories.contact(services, admin)
    with pytest.raises(NotFound):
        campaigns.add_contacts(services.uow(), actor=admin, campaign_id=campaign.id, contact_ids=[person.id, 99999])
    assert campaigns.campaign_contact_ids(services.uow(), actor=admin, campaign_id=campaign.id) == []


def test_status_change_and_rep_cannot_create_campaigns(services, admin, rep):
    campaign = campaigns.create_campaign(services.uow(), actor=admin, data=CampaignInput(name="Status"))
    changed = campaigns.set_campaign_status(services.uow(), actor=admin, campaign_id=campaign.id,
                                            status=CampaignStatus.active)
    assert changed.status is CampaignStatus.active
    with pytest.raises(PermissionDenied):
        campaigns.create_campaign(services.uow(), actor=rep, data=CampaignInput(name="Mine"))
