"""Campaigns page: stats with rates as percentages, chart, create form, detail actions."""

from __future__ import annotations

from datetime import date

from core.campaigns.models import CampaignStatus
from core.campaigns.service import campaign_contact_ids, list_campaigns
from core.content.service import list_templates

PAGE = "pages/Campaigns.py"


def campaign(services, actor, name: str):
    return next(c for c in list_campaigns(services.uow(), actor=actor) if c.name == name)


def test_stats_table_shows_rates_as_percentages(demo_services, demo_actor, open_page, table):
    at = open_page(PAGE)

    stats = table(at, "open rate %").set_index("campaign")
    q1 = campaign(demo_services, demo_actor, "Q1 Logistics Outbound").stats
    row = stats.loc["Q1 Logistics Outbound"]
    assert row["members"] == q1.total_contacts and row["sent"] == q1.sent
    assert row["open rate %"] == round(q1.opened / q1.sent * 100, 1)
    assert at.get("plotly_chart")


def test_new_campaign_form_creates_a_campaign(demo_services, demo_actor, open_page, text_of):
    at = open_page(PAGE)
    at.text_input(key="campaigns_new_name").input("Spring webinar follow-up")
    at.selectbox(key="campaigns_new_type").select("event")
    at.date_input(key="campaigns_new_starts").set_value(date(2027, 3, 1))
    at.date_input(key="campaigns_new_ends").set_value(date(2027, 3, 31))
    at.button(key="campaigns_new_submit").click().run()

    assert not at.exception
    assert "Created campaign Spring webinar follow-up." in text_of(at)
    created = campaign(demo_services, demo_actor, "Spring webinar follow-up")
    assert created.type.value == "event" and created.starts_on == date(2027, 3, 1)


def test_campaign_dates_out_of_order_are_refused_inline(demo_services, demo_actor, open_page):
    at = open_page(PAGE)
    at.text_input(key="campaigns_new_name").input("Backwards")
    at.date_input(key="campaigns_new_starts").set_value(date(2027, 3, 31))
    at.date_input(key="campaigns_new_ends").set_value(date(2027, 3, 1))
    at.button(key="campaigns_new_submit").click().run()

    assert any("ends_on is before starts_on" in e.value for e in at.error)
    assert all(c.name != "Backwards" for c in list_campaigns(demo_services.uow(), actor=demo_actor))


def test_detail_adds_contacts_attaches_a_template_and_changes_status(demo_services, demo_actor, open_page,
                                                                      text_of):
    draft = campaign(demo_services, demo_actor, "Re-engage stalled deals")
    at = open_page(PAGE)
    at.selectbox(key="campaigns_open").select(draft.id).run()
    assert {m.label: m.value for m in at.metric}["Members"] == str(draft.stats.total_contacts)

    at.text_input(key="campaign_contact_search").input("ada").run()  # no demo contact matches
    at.text_input(key="campaign_contact_search").input("northwind-air").run()
    picks = at.multiselect(key="campaign_add_contacts").options[:2]
    assert len(picks) == 2
    for label in picks:
        at.multiselect(key="campaign_add_contacts").select(label)
    at.button(key="campaign_add").click().run()
    assert "Added 2 contact(s)" in text_of(at)

    template = next(t for t in list_templates(demo_services.uow(), actor=demo_actor)
                    if t.id not in draft.template_ids)
    at.selectbox(key="campaign_template").select(template.id)
    at.button(key="campaign_attach").click().run()

    at.selectbox(key="campaign_status").select("active")
    at.button(key="campaign_set_status").click().run()

    assert not at.exception
    after = campaign(demo_services, demo_actor, "Re-engage stalled deals")
    assert after.stats.total_contacts == draft.stats.total_contacts + 2
    assert template.id in after.template_ids
    assert after.status is CampaignStatus.active
    assert len(campaign_contact_ids(demo_services.uow(), actor=demo_actor, campaign_id=draft.id)) == \
        draft.stats.total_contacts + 2
