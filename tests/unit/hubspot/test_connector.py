from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from core.errors import ConnectorError
from core.integrations.hubspot import HubSpotConnector
from tests.fakes.hubspot import FakeHubSpot


def test_batch_create_read_and_update_go_through_the_official_client(hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    created = crm.batch_create("contacts", [{"email": f"buyer{i}@acme.com", "firstname": "Ann"} for i in range(150)])
    assert len(created) == 150
    read = crm.batch_read("contacts", [r.id for r in created], properties=["email", "firstname"])
    assert {r.properties["email"] for r in read} == {f"buyer{i}@acme.com" for i in range(150)}
    crm.batch_update("contacts", {created[0].id: {"firstname": "Bea"}})
    assert hub.objects["contacts"][created[0].id].properties["firstname"] == "Bea"
    assert [p for m, p, s in hub.requests if p.endswith("/batch/create")] == ["/crm/v3/objects/contacts/batch/create"] * 2


def test_contacts_are_found_by_email_and_companies_by_domain(hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    contact_id = hub.seed("contacts", {"email": "cfo@globex.com", "firstname": "Hank"})
    hub.seed("companies", {"domain": "globex.com", "name": "Globex"})
    assert crm.find_contact_by_email("cfo@globex.com", properties=["firstname"]).id == contact_id
    assert crm.find_company_by_domain("globex.com", properties=["name"]).properties["name"] == "Globex"
    assert crm.find_contact_by_email("nobody@globex.com", properties=[]) is None


def test_429_storm_is_waited_out_and_never_reaches_the_caller(hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    contact_id = hub.seed("contacts", {"email": "a@b.com"})
    hub.fail_next("429", 4)
    assert crm.get("contacts", contact_id, properties=["email"]).properties["email"] == "a@b.com"
    assert crm.rate_limited == 4


def test_server_errors_and_timeouts_are_retried(hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    contact_id = hub.seed("contacts", {"email": "a@b.com"})
    hub.fail_next("500")
    hub.fail_next("timeout")
    hub.fail_next("503")
    assert crm.get("contacts", contact_id, properties=["email"]) is not None


def test_persistent_outage_becomes_retryable_connector_error(hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    hub.fail_next("502", 10)
    with pytest.raises(ConnectorError) as caught:
        crm.list_page("contacts", properties=["email"])
    assert caught.value.retryable and caught.value.status == 502 and caught.value.connector == "hubspot"


def test_bad_token_is_a_final_error_naming_the_category(hub: FakeHubSpot) -> None:
    crm = HubSpotConnector("wrong", api_base=hub.base_url, backoff=0.01)
    with pytest.raises(ConnectorError) as caught:
        crm.test_connection()
    assert not caught.value.retryable and caught.value.status == 401
    assert "INVALID_AUTHENTICATION" in caught.value.message


def test_our_rolling_window_keeps_under_the_quota_without_any_429(hub: FakeHubSpot) -> None:
    hub.window.limit, hub.window.seconds = 10, 0.25  # HubSpot's 190 per 10 s, scaled down to run quickly
    crm = HubSpotConnector(hub.token, api_base=hub.base_url, rate_limit=(10, 0.25), backoff=0.01, max_retries=0)
    started = time.monotonic()
    for _ in range(30):
        crm.list_page("contacts", properties=[])
    assert time.monotonic() - started >= 0.5
    assert not [r for r in hub.requests if r[2] == 429]


def test_search_is_held_to_four_per_second(hub: FakeHubSpot) -> None:
    crm = HubSpotConnector(hub.token, api_base=hub.base_url, backoff=0.01, max_retries=0)
    for _ in range(6):
        crm.find_contact_by_email("x@y.com", properties=[])
    assert not [r for r in hub.requests if r[2] == 429]


def test_fake_answers_a_burst_over_the_limit_with_hubspots_429(hub: FakeHubSpot) -> None:
    import json
    import urllib.error
    import urllib.request

    hub.window.limit = 2
    codes, error = [], None
    for _ in range(3):
        request = urllib.request.Request(hub.base_url + "/crm/v3/objects/contacts",
                                         headers={"Authorization": f"Bearer {hub.token}"})
        try:
            codes.append(urllib.request.urlopen(request).status)
        except urllib.error.HTTPError as exc:
            codes.append(exc.code)
            error = exc
    assert codes == [200, 200, 429]
    body = json.loads(error.read())
    assert body["status"] == "error" and body["category"] == "RATE_LIMITS" and body["correlationId"]
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert error.headers["X-HubSpot-RateLimit-Max"] == "2"
    assert error.headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_changes_are_walked_past_the_search_ceiling(hub: FakeHubSpot) -> None:
    # The real ceiling is 10,000; both sides take a lower one here so the test crosses it twice quickly.
    hub.search_ceiling = 300
    crm = HubSpotConnector(hub.token, api_base=hub.base_url, timeout=10, max_retries=0, search_limit=(1000, 1.0),
                           search_ceiling=300)
    with hub.unlimited():
        for i in range(750):
            hub.seed("contacts", {"email": f"p{i}@bulk.com"})
        seen = [r.id for r in crm.modified_since("contacts", datetime(2020, 1, 1, tzinfo=UTC), properties=["email"])]
    assert len(seen) == 750 == len(set(seen))
    assert not [r for r in hub.requests if r[2] == 400]


def test_paging_past_the_ceiling_is_refused_like_the_real_search_api(hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    with pytest.raises(ConnectorError) as caught:
        crm.search("contacts", filters=[], properties=[], after="9950", limit=100)
    assert caught.value.status == 400 and not caught.value.retryable


def test_marketing_email_html_becomes_text_for_voice_training(hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    hub.add_marketing_email("March update", "What's new", "<style>p{color:red}</style><p>Hi <b>there</b>,</p>"
                            "<p>Three things shipped.</p>")
    (email,) = crm.marketing_emails()
    assert (email.name, email.subject) == ("March update", "What's new")
    assert email.text == "Hi there,\n\nThree things shipped."


def test_notes_and_tasks_land_on_the_contacts_timeline(hub: FakeHubSpot, crm: HubSpotConnector) -> None:
    contact_id = hub.seed("contacts", {"email": "lead@acme.com"})
    company_id = hub.seed("companies", {"domain": "acme.com", "name": "Acme"})
    crm.associate("contacts", contact_id, "companies", company_id)
    crm.create_note(contact_id, "<p>Sent: Intro</p>", datetime.now(UTC))
    crm.create_task(contact_id, "Call Ann", "Follow up on intro", datetime.now(UTC))
    assert crm.associated_ids("contacts", contact_id, "companies") == [company_id]
    notes = crm.engagements_for_contact("notes", contact_id, properties=["hs_note_body"])
    tasks = crm.engagements_for_contact("tasks", contact_id, properties=["hs_task_subject"])
    assert [n.properties["hs_note_body"] for n in notes] == ["<p>Sent: Intro</p>"]
    assert [t.properties["hs_task_subject"] for t in tasks] == ["Call Ann"]
    assert crm.get_deal("424242") is None
