"""Google sign-in on the dashboard: the link on the sign-in page, the provider's redirect back, the session after.

The browser's part is played by HTTP requests against the fake identity provider; the dashboard is AppTest.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.auth.actor import SYSTEM
from core.auth.login import sign_out_everywhere
from core.auth.models import Role
from core.auth.oidc import EMAIL_NOT_VERIFIED
from core.auth.schemas import UserInput
from core.auth.service import create_user
from core.config import load_settings
from core.db import Base, make_engine
from core.services import Services, build_services
from tests.fakes.oidc_provider import FakeOidcProvider
from tests.ui.auth_helpers import sign_in
from ui.auth import SESSION_KEY

ROOT = Path(__file__).resolve().parents[2]
REDIRECT = "http://127.0.0.1:8501/"


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(redirect_uris=(REDIRECT,)) as fake:
        yield fake


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idp: FakeOidcProvider) -> Iterator[Services]:
    idp.next_identity = {"sub": "42", "email": "pat@example.com", "email_verified": True, "name": "Pat"}
    env = {"DATA_DIR": str(tmp_path / "data"), "ENVIRONMENT": "test", "DATABASE_URL": "", "REDIS_URL": "",
           "OIDC_ISSUER": idp.issuer, "OIDC_CLIENT_ID": idp.client_id, "OIDC_CLIENT_SECRET": idp.client_secret,
           "OIDC_REDIRECT_URI": REDIRECT, "OIDC_ALLOWED_DOMAINS": "example.com"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    st.cache_resource.clear()
    st.cache_data.clear()
    settings = load_settings(_env_file=None)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    svc = build_services(settings, engine=engine)
    create_user(svc.uow(), actor=SYSTEM, data=UserInput(email="admin@example.com", name="Ada", roles=[Role.admin],
                                                        password="a-long-password"))
    yield svc
    svc.dispose()
    st.cache_resource.clear()
    st.cache_data.clear()


def page(name: str = "pages/Admin.py") -> AppTest:
    return AppTest.from_file(str(ROOT / name), default_timeout=30)


def google_link(at: AppTest) -> str:
    for block in at.get("html"):
        found = re.search(r'<a href="([^"]+)"[^>]*id="auth-google"', str(block.proto.body))
        if found:
            return html.unescape(found.group(1))
    raise AssertionError("no 'Sign in with Google' link on the page")


def come_back_from_google(url: str) -> AppTest:
    """The browser follows the link; the provider redirects to the dashboard with code and state."""
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    at = page()
    at.query_params["code"] = query["code"][0]
    at.query_params["state"] = query["state"][0]
    return at.run()


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_sign_in_page_offers_google(services: Services) -> None:
    at = page().run()
    assert titles(at) == ["Sign in"]
    assert google_link(at).startswith(f"{services.settings.oidc_issuer}/o/oauth2/v2/auth?")


def test_new_google_user_is_signed_in_as_a_viewer(services: Services) -> None:
    at = come_back_from_google(google_link(page().run()))
    assert not at.exception
    assert [e.value for e in at.error] == ["The Admin page is for administrators."]  # signed in, as a viewer
    assert "Signed in as **Pat** (viewer)" in [c.value for c in at.sidebar.caption]


def test_existing_admin_signs_in_with_google(services: Services, idp: FakeOidcProvider) -> None:
    idp.next_identity = {"sub": "7", "email": "admin@example.com", "email_verified": True, "name": "Ada"}
    at = come_back_from_google(google_link(page().run()))
    assert "Admin" in titles(at) and [t.label for t in at.tabs][:1] == ["Users"]


def test_unverified_google_email_is_refused_on_the_sign_in_page(services: Services, idp: FakeOidcProvider) -> None:
    idp.next_identity = {**idp.next_identity, "email_verified": False}
    at = come_back_from_google(google_link(page().run()))
    assert titles(at) == ["Sign in"] and [e.value for e in at.error] == [EMAIL_NOT_VERIFIED]


def test_google_session_ends_with_sign_out_everywhere(services: Services) -> None:
    at = come_back_from_google(google_link(page().run()))
    session = dict(at.session_state[SESSION_KEY])
    sign_out_everywhere(services.uow(), user_id=int(session["user_id"]), now=services.clock() + timedelta(seconds=1))
    at.run()
    assert titles(at) == ["Sign in"]
    # Replaying the session (as a copied cookie would) after the sign-out is refused too.
    replay = sign_in(page(), int(session["user_id"]), services.clock() - timedelta(seconds=5)).run()
    assert titles(replay) == ["Sign in"]


def test_the_same_code_does_not_sign_in_twice(services: Services) -> None:
    url = google_link(page().run())
    response = requests.get(url, allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    for expected in (True, False):
        at = page()
        at.query_params.update({"code": query["code"][0], "state": query["state"][0]})
        at.run()
        assert ("Sign in" not in titles(at)) is expected
