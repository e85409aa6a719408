"""POST /webhooks/gmail: Pub/Sub push verified against Google's keys (a fake JWKS on 127.0.0.1), then queued."""

from __future__ import annotations

import base64
import importlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from huey import SqliteHuey
from sqlalchemy import func, select

from core.auth.actor import Actor
from core.mail.gmail_history import sync_mailbox_history
from core.mail.gmail_models import GmailPushMessage
from core.mail.models import InboundKind, InboundMessage
from core.services import Services, build_services
from public_endpoints import create_app
from tests.fakes.gmail_api import FakeGmail
from tests.fakes.google_jwks import FakeGoogleCerts, rsa_key
from tests.unit.mail.gmail_support import MAILBOX, gmail_mailbox, reply_to, sent_through_gmail

AUDIENCE = "https://sales.example.com/webhooks/gmail"
ACCOUNT = "gmail-push@acme-sales.iam.gserviceaccount.com"


@pytest.fixture
def certs() -> Iterator[FakeGoogleCerts]:
    with FakeGoogleCerts() as fake:
        yield fake


@pytest.fixture
def gmail() -> Iterator[FakeGmail]:
    with FakeGmail() as fake:
        yield fake


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, services: Services, gmail: FakeGmail,
           certs: FakeGoogleCerts) -> Iterator[tuple[Services, Any]]:
    """Services pointed at the fakes, and a queue that holds tasks (not immediate) so a test can count them."""
    monkeypatch.setenv("HUEY_IMMEDIATE", "true")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "import-data"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    importlib.import_module("jobs.main")
    from jobs import huey_app

    svc = build_services(services.settings.model_copy(update={
        "gmail_api_base": gmail.base_url, "gmail_push_audience": AUDIENCE, "gmail_push_service_account": ACCOUNT,
        "gmail_push_jwks_url": certs.url}), engine=services.engine)
    with huey_app.running_against(svc, SqliteHuey("gmail-test", filename=str(tmp_path / "queue.db"))) as queue:
        yield svc, queue
    huey_app.get_settings.cache_clear()


def push_body(message_id: str = "2070443601311540", history_id: int = 1001, email: str = MAILBOX) -> dict[str, Any]:
    data = base64.b64encode(json.dumps({"emailAddress": email, "historyId": history_id}).encode()).decode()
    return {"message": {"data": data, "messageId": message_id, "message_id": message_id,
                        "publishTime": "2026-11-29T10:00:00.000Z"},
            "subscription": "projects/acme-sales/subscriptions/gmail-push"}


def token(certs: FakeGoogleCerts, **claims: Any) -> dict[str, str]:
    values: dict[str, Any] = {"aud": AUDIENCE, "email": ACCOUNT, "email_verified": True}
    values.update(claims)
    return {"Authorization": "Bearer " + certs.sign(**values)}


def client_of(svc: Services) -> FlaskClient:
    return create_app(svc.settings, svc).test_client()


def pushes(svc: Services) -> int:
    with svc.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(GmailPushMessage)) or 0)


def test_verified_push_queues_one_history_sync_that_records_the_reply(
        queued: tuple[Services, Any], certs: FakeGoogleCerts, gmail: FakeGmail, admin: Actor) -> None:
    svc, queue = queued
    mailbox = gmail_mailbox(svc, admin, gmail)
    sync_mailbox_history(svc, email=MAILBOX)  # the cursor a watch would have set
    entry = sent_through_gmail(svc, admin, mailbox.id)
    gmail.deliver(reply_to(entry, "<reply-1@acme-logistics.com>"))
    response = client_of(svc).post("/webhooks/gmail", json=push_body(history_id=gmail.history_id),
                                   headers=token(certs))
    assert response.status_code == 204
    assert queue.pending_count() == 1
    queue.execute(queue.dequeue())
    with svc.uow() as uow:
        rows = [(m.kind, m.ledger_entry_id) for m in uow.session.scalars(select(InboundMessage))]
    assert rows == [(InboundKind.reply, entry.id)]


def test_redelivered_push_is_answered_204_and_queued_once(queued: tuple[Services, Any],
                                                          certs: FakeGoogleCerts) -> None:
    svc, queue = queued
    client = client_of(svc)
    first = client.post("/webhooks/gmail", json=push_body(), headers=token(certs))
    again = client.post("/webhooks/gmail", json=push_body(), headers=token(certs))
    assert (first.status_code, again.status_code) == (204, 204)
    assert queue.pending_count() == 1 and pushes(svc) == 1


def test_signing_keys_are_fetched_once_for_many_pushes(queued: tuple[Services, Any], certs: FakeGoogleCerts) -> None:
    svc, _ = queued
    client = client_of(svc)
    for n in range(3):
        assert client.post("/webhooks/gmail", json=push_body(message_id=str(n)), headers=token(certs)).status_code == 204
    assert certs.fetches == 1


UNVERIFIED = {
    "wrong audience": {"aud": "https://other.example.com/webhooks/gmail"},
    "wrong service account": {"email": "intruder@evil-project.iam.gserviceaccount.com"},
    "unverified email": {"email_verified": False},
    "expired token": {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
    "wrong issuer": {"iss": "https://evil.example.com"},
    "bad signature": {"key": "other"},
    "unknown key id": {"kid": "not-a-google-key"},
}


@pytest.mark.parametrize("case", [*UNVERIFIED, "missing header", "not a bearer token", "garbage token"])
def test_unverified_push_is_401_and_queues_nothing(queued: tuple[Services, Any], certs: FakeGoogleCerts,
                                                   case: str) -> None:
    svc, queue = queued
    if case == "missing header":
        headers: dict[str, str] = {}
    elif case == "not a bearer token":
        headers = {"Authorization": "Basic " + base64.b64encode(b"user:pass").decode()}
    elif case == "garbage token":
        headers = {"Authorization": "Bearer not.a.jwt"}
    else:
        claims = dict(UNVERIFIED[case])
        if claims.get("key") == "other":
            claims["key"] = rsa_key()
        headers = token(certs, **claims)
    response = client_of(svc).post("/webhooks/gmail", json=push_body(), headers=headers)
    assert response.status_code == 401
    assert queue.pending_count() == 0 and pushes(svc) == 0


def test_verified_request_that_is_not_a_gmail_notification_is_400(queued: tuple[Services, Any],
                                                                  certs: FakeGoogleCerts) -> None:
    svc, queue = queued
    response = client_of(svc).post("/webhooks/gmail", json={"message": {"data": "bm90IGpzb24="}},
                                   headers=token(certs))
    assert response.status_code == 400
    assert queue.pending_count() == 0 and pushes(svc) == 0
