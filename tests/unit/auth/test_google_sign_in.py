"""Google sign-in through real HTTP against a fake identity provider: code exchange, id_token checks, link/create."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import SecretStr
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.actor import SYSTEM, Actor
from core.auth.errors import AuthenticationFailed
from core.auth.models import Role, User
from core.auth.oidc import EMAIL_NOT_VERIFIED, STATE_INVALID, OidcProvider, make_identity_provider
from core.auth.schemas import UserInput, VerifiedIdentity
from core.auth.service import NO_ADMIN_YET, OIDC_REFUSED, create_user, delete_user, sign_in_with_identity, suspend_user
from core.config import Settings
from core.errors import ConnectorError
from core.services import Services, build_services
from tests.conftest import sqlite_test_settings
from tests.fakes.oidc_provider import FakeOidcProvider

REDIRECT = "http://127.0.0.1:8501/"


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(redirect_uris=(REDIRECT,)) as fake:
        yield fake


@pytest.fixture
def google(idp: FakeOidcProvider, tmp_path: Path) -> OidcProvider:
    idp.next_identity = {"sub": "1101694844", "email": "Pat@Example.com", "email_verified": True, "name": "Pat Prospect"}
    idp.id_token_changes, idp.sign_with_foreign_key = {}, False
    provider = make_identity_provider(oidc_settings(sqlite_test_settings(tmp_path), idp))
    assert isinstance(provider, OidcProvider)
    return provider


def oidc_settings(settings: Settings, idp: FakeOidcProvider) -> Settings:
    return settings.model_copy(update={"oidc_issuer": idp.issuer, "oidc_client_id": idp.client_id,
                                       "oidc_client_secret": SecretStr(idp.client_secret), "oidc_redirect_uri": REDIRECT})


def browser_round_trip(google: OidcProvider) -> tuple[str, str]:
    """What the browser does: open the authorization URL, follow it back to us; returns (code, state)."""
    start = google.begin_sign_in(now=datetime.now(UTC))
    response = requests.get(start.url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT
    query = parse_qs(back.query)
    assert query["state"] == [start.state]
    return query["code"][0], query["state"][0]


def sign_in(google: OidcProvider) -> VerifiedIdentity:
    code, state = browser_round_trip(google)
    return google.finish_sign_in(code=code, state=state, now=datetime.now(UTC))


def refusal(google: OidcProvider) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as caught:
        sign_in(google)
    return caught.value


def test_verified_identity_comes_back_from_the_code_exchange(google: OidcProvider, idp: FakeOidcProvider) -> None:
    identity = sign_in(google)
    assert (identity.email, identity.subject, identity.name) == ("pat@example.com", "1101694844", "Pat Prospect")
    sent = idp.token_requests[-1]
    assert sent["grant_type"] == "authorization_code" and sent["code_verifier"] and sent["redirect_uri"] == REDIRECT


def test_first_google_sign_in_creates_a_viewer_and_audits_it(services: Services, google: OidcProvider,
                                                              admin: Actor) -> None:
    actor = sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock(),
                                  allowed_domains=["example.com"])
    assert actor.roles == frozenset({"viewer"}) and actor.email == "pat@example.com" and actor.via == "oidc"
    with services.uow() as uow:
        user = uow.session.scalars(select(User).where(User.email == "pat@example.com")).one()
        assert user.email_verified and user.password_hash is None and user.name == "Pat Prospect"
        entry = uow.session.scalars(select(AuditEntry).where(AuditEntry.resource_type == "user")).one()
        assert entry.action == "create" and entry.changes["subject"] == "1101694844"


def test_google_sign_in_links_the_existing_user_by_verified_email(services: Services, google: OidcProvider) -> None:
    rep = create_user(services.uow(), actor=SYSTEM, data=UserInput(email="pat@example.com", name="Pat",
                                                                   roles=[Role.sales_rep], password="pw-of-pat-1"))
    actor = sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock())
    assert actor.user_id == rep.id and actor.roles == frozenset({"sales_rep"})
    assert ("contacts", "update") in (actor.permissions or set())
    with services.uow() as uow:
        actions = [e.action for e in uow.session.scalars(select(AuditEntry).where(
            AuditEntry.resource_id == str(rep.id)).order_by(AuditEntry.id))]
    assert actions == ["create", "sign_in"]


def test_a_fresh_installation_needs_an_administrator_first(services: Services, google: OidcProvider) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock())
    assert caught.value.message == NO_ADMIN_YET


@pytest.mark.parametrize("end", [suspend_user, delete_user])
def test_suspended_or_deleted_user_is_refused(services: Services, google: OidcProvider, end) -> None:
    user = create_user(services.uow(), actor=SYSTEM, data=UserInput(email="pat@example.com", name="Pat"))
    end(services.uow(), actor=SYSTEM, user_id=user.id, now=services.clock())
    with pytest.raises(AuthenticationFailed) as caught:
        sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock())
    assert caught.value.message == OIDC_REFUSED


def test_only_allowed_domains_may_create_an_account(services: Services, google: OidcProvider, admin: Actor) -> None:
    with pytest.raises(AuthenticationFailed):
        sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock(),
                              allowed_domains=["acme.com"])
    with services.uow() as uow:
        assert uow.session.scalar(select(User.id).where(User.email == "pat@example.com")) is None
    create_user(services.uow(), actor=SYSTEM, data=UserInput(email="pat@example.com", name="Pat"))
    linked = sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock(),
                                   allowed_domains=["acme.com"])
    assert linked.email == "pat@example.com"


def test_by_default_nobody_new_signs_up_but_existing_users_are_linked(services: Services, google: OidcProvider,
                                                                     admin: Actor) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock())
    assert caught.value.message == OIDC_REFUSED
    with services.uow() as uow:
        assert uow.session.scalar(select(User.id).where(User.email == "pat@example.com")) is None
    create_user(services.uow(), actor=SYSTEM, data=UserInput(email="pat@example.com", name="Pat"))
    assert sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock()).email == \
        "pat@example.com"


def test_a_star_lets_any_verified_address_sign_up(services: Services, google: OidcProvider, admin: Actor) -> None:
    actor = sign_in_with_identity(services.uow(), identity=sign_in(google), now=services.clock(),
                                  allowed_domains=["*"])
    assert actor.roles == frozenset({"viewer"})


def test_unverified_email_is_refused(google: OidcProvider, idp: FakeOidcProvider) -> None:
    idp.next_identity["email_verified"] = False
    refused = refusal(google)
    assert refused.message == EMAIL_NOT_VERIFIED and refused.details == {"reason": "email_not_verified"}


def test_token_for_another_application_is_refused(google: OidcProvider, idp: FakeOidcProvider) -> None:
    idp.id_token_changes = {"aud": "another-app.apps.googleusercontent.com",
                            "azp": "another-app.apps.googleusercontent.com"}
    assert refusal(google).details == {"reason": "audience"}


def test_expired_id_token_is_refused(google: OidcProvider, idp: FakeOidcProvider) -> None:
    past = int((datetime.now(UTC) - timedelta(hours=2)).timestamp())
    idp.id_token_changes = {"iat": past, "exp": past + 3600}
    assert refusal(google).details == {"reason": "expired"}


def test_id_token_signed_with_another_key_is_refused(google: OidcProvider, idp: FakeOidcProvider) -> None:
    idp.sign_with_foreign_key = True
    assert refusal(google).details == {"reason": "signature"}


def test_id_token_from_another_issuer_is_refused(google: OidcProvider, idp: FakeOidcProvider) -> None:
    idp.id_token_changes = {"iss": "https://evil.example.com"}
    assert refusal(google).details == {"reason": "issuer"}


def test_id_token_with_another_nonce_is_refused(google: OidcProvider, idp: FakeOidcProvider) -> None:
    idp.id_token_changes = {"nonce": "replayed-from-another-sign-in"}
    assert refusal(google).details == {"reason": "nonce"}


def test_code_works_once(google: OidcProvider) -> None:
    code, state = browser_round_trip(google)
    google.finish_sign_in(code=code, state=state, now=datetime.now(UTC))
    with pytest.raises(AuthenticationFailed) as again:
        google.finish_sign_in(code=code, state=state, now=datetime.now(UTC))
    assert again.value.details == {"reason": "token_endpoint:invalid_grant"}


@pytest.mark.parametrize("late", [False, True])
def test_forged_or_stale_state_is_refused(google: OidcProvider, late: bool) -> None:
    code, state = browser_round_trip(google)
    now = datetime.now(UTC) + timedelta(minutes=11 if late else 0)
    with pytest.raises(AuthenticationFailed) as caught:
        google.finish_sign_in(code=code, state=state if late else state[:-4] + "AAAA", now=now)
    assert caught.value.message == STATE_INVALID


def test_identity_provider_is_chosen_from_settings(tmp_path: Path, idp: FakeOidcProvider) -> None:
    plain = sqlite_test_settings(tmp_path)
    assert "identity" not in build_services(plain).connectors
    configured = build_services(oidc_settings(plain, idp))
    assert isinstance(configured.connectors["identity"], OidcProvider)
    assert plain.effective_oidc_redirect_uri == "http://127.0.0.1:8501/"


def test_unreachable_provider_is_a_retryable_connector_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = sqlite_test_settings(tmp_path, oidc_issuer=f"http://127.0.0.1:{port}", oidc_client_id="c",
                                    oidc_client_secret="s")
    provider = make_identity_provider(settings)
    assert provider is not None
    with pytest.raises(ConnectorError) as caught:
        provider.begin_sign_in(now=datetime.now(UTC))
    assert caught.value.retryable
