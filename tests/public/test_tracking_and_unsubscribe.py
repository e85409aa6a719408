"""Seed 6.4, 6.5, 11.5: the pixel, the click redirect and one-click unsubscribe, as a mail client reaches them."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.auth.actor import Actor
from core.crm.models import Suppression
from core.mail.models import Classification, EventType, MessageEvent
from core.mail.schemas import MailboxView
from core.mail.tracking import classify
from core.services import Services
from public_endpoints import create_app
from public_endpoints.tracking import recorder
from tests.unit.mail.conftest import QueueDraft, outbox_mailbox, queue_draft, send_and_read_paths  # noqa: F401

HUMAN_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services.settings, services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def sent(services: Services, outbox_mailbox: MailboxView, queue_draft: QueueDraft) -> dict[str, str]:  # noqa: F811
    return send_and_read_paths(services, queue_draft)


def flush(app: Flask) -> None:
    with app.app_context():
        recorder().flush()


def events(services: Services) -> list[tuple[EventType, Classification]]:
    with services.uow() as uow:
        return [(e.type, e.classification) for e in uow.session.scalars(select(MessageEvent).order_by(MessageEvent.id))]


def suppressed(services: Services) -> int:
    with services.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Suppression)) or 0)


def test_pixel_is_a_43_byte_gif_that_is_never_cached(client: FlaskClient, sent: dict[str, str]) -> None:
    response = client.get(sent["pixel"])
    assert response.status_code == 200 and response.mimetype == "image/gif"
    assert len(response.data) == 43 and response.data.startswith(b"GIF89a")
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/o/forged-token-0000000000.gif", "/o/x.gif", "/o/%00.gif", "/o/a/b/c"])
def test_pixel_is_served_even_for_a_bad_token(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and len(response.data) == 43


def test_pixel_is_served_when_recording_fails(app: Flask, client: FlaskClient, sent: dict[str, str]) -> None:
    def broken(event: object) -> None:
        raise ConnectionError("redis down")
    with app.app_context():
        recorder().buffer.push = broken  # type: ignore[method-assign]
    assert client.get(sent["pixel"]).status_code == 200


def test_open_is_recorded_and_classified_after_the_buffer_drains(app: Flask, client: FlaskClient,
                                                                 services: Services, sent: dict[str, str]) -> None:
    client.get(sent["pixel"], headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) via ggpht.com GoogleImageProxy"})
    assert events(services) == []
    flush(app)
    assert events(services) == [(EventType.open, Classification.google_proxy)]


def test_a_batch_the_database_refuses_waits_for_the_next_flush(app: Flask, client: FlaskClient,
                                                                services: Services, sent: dict[str, str]) -> None:
    """No event is lost when a write fails: the batch goes back to the buffer and the next flush stores it."""
    client.get(sent["pixel"], headers={"User-Agent": HUMAN_UA})
    client.get(sent["click"], headers={"User-Agent": HUMAN_UA})
    with services.engine.begin() as conn:  # the table is gone for a moment (a failed migration, a lost disk)
        conn.exec_driver_sql("ALTER TABLE message_events RENAME TO message_events_away")
    try:
        flush(app)
        with app.app_context():
            assert len(recorder().buffer) == 2
    finally:
        with services.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE message_events_away RENAME TO message_events")
    flush(app)
    assert sorted(kind for kind, _ in events(services)) == [EventType.click, EventType.open]
    with app.app_context():
        assert len(recorder().buffer) == 0


def test_click_redirects_to_the_stored_url_only(app: Flask, client: FlaskClient, services: Services,
                                                sent: dict[str, str]) -> None:
    response = client.get(sent["click"], headers={"User-Agent": HUMAN_UA})
    assert response.status_code == 302
    assert response.headers["Location"] == "https://acme-sales.example/case"
    flush(app)
    assert [e[0] for e in events(services)] == [EventType.click]


@pytest.mark.parametrize("target", ["//evil.com", "https:evil.com", "\\\\evil.com", "javascript:alert(1)",
                                    "https://evil.com", "%2F%2Fevil.com"])
def test_click_never_redirects_anywhere_else(client: FlaskClient, sent: dict[str, str], target: str) -> None:
    for path in (f"/c/{target}", f"/c/{sent['click'][3:]}{target}", f"{sent['click']}?url={target}"):
        response = client.get(path)
        if response.status_code == 302:
            assert response.headers["Location"] == "https://acme-sales.example/case"
        else:
            assert response.status_code == 404 and "Location" not in response.headers


def test_tampered_click_token_gets_a_404_page(client: FlaskClient, sent: dict[str, str]) -> None:
    token = sent["click"][3:]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get("/c/" + tampered)
    assert response.status_code == 404 and b"Link not found" in response.data


def test_unsubscribe_get_shows_a_confirmation_and_changes_nothing(client: FlaskClient, services: Services,
                                                                  sent: dict[str, str]) -> None:
    response = client.get(sent["unsubscribe"])
    assert response.status_code == 200 and b"Unsubscribe?" in response.data
    assert suppressed(services) == 0


def test_one_click_post_unsubscribes_without_cookies_or_redirect(services: Services, app: Flask,
                                                                 sent: dict[str, str]) -> None:
    client = app.test_client(use_cookies=False)
    for _ in range(2):  # idempotent
        response = client.post(sent["unsubscribe"], data="List-Unsubscribe=One-Click",
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200 and "Location" not in response.headers
    with services.uow() as uow:
        assert [(s.email, s.reason.value) for s in uow.session.scalars(select(Suppression))] == [
            (sent["to"], "unsubscribed")]
    assert events(services) == [(EventType.unsubscribe, Classification.human)]


def test_post_without_the_one_click_body_changes_nothing(client: FlaskClient, services: Services,
                                                         sent: dict[str, str]) -> None:
    assert client.post(sent["unsubscribe"], data={"something": "else"}).status_code == 400
    assert suppressed(services) == 0


def test_forged_unsubscribe_token_changes_nothing(client: FlaskClient, services: Services,
                                                  sent: dict[str, str]) -> None:
    forged = sent["unsubscribe"][:-2] + "xx"
    assert client.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get(forged).status_code == 404
    assert suppressed(services) == 0


def test_resubscribe_removes_only_the_unsubscribe(client: FlaskClient, services: Services, sent: dict[str, str]) -> None:
    client.post(sent["unsubscribe"], data={"List-Unsubscribe": "One-Click"})
    assert suppressed(services) == 1
    response = client.post(sent["unsubscribe"] + "/resubscribe")
    assert response.status_code == 200 and b"Resubscribed" in response.data
    assert suppressed(services) == 0


@pytest.mark.parametrize(("ua", "ip", "after", "expected"), [
    (HUMAN_UA, "203.0.113.9", 3600, Classification.human),
    ("Mozilla/5.0", "17.58.101.4", 3600, Classification.apple_proxy),
    ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "66.249.84.1",
     3600, Classification.google_proxy),
    ("Barracuda Sentinel (EE)", "198.51.100.7", 3600, Classification.scanner),
    (HUMAN_UA, "203.0.113.9", 1, Classification.scanner),
])
def test_opens_are_classified(ua: str, ip: str, after: float, expected: Classification) -> None:
    assert classify(user_agent=ua, ip=ip, seconds_after_delivery=after, scanner_seconds=5) is expected


def test_only_admins_and_readers_export_the_suppression_list(services: Services, admin: Actor,
                                                             sent: dict[str, str], client: FlaskClient) -> None:
    from core.mail.recipients import export_suppressions_csv

    client.post(sent["unsubscribe"], data={"List-Unsubscribe": "One-Click"})
    csv = export_suppressions_csv(services.uow(), actor=admin).decode()
    assert csv.splitlines()[0] == "email,reason,detail,created_at"
    assert f"{sent['to']},unsubscribed" in csv
