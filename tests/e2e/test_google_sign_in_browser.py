"""Google sign-in in a real browser: Chromium, the dashboard under `streamlit run`, the fake identity provider."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.auth.actor import SYSTEM
from core.auth.models import Role
from core.auth.schemas import UserInput
from core.auth.service import create_user
from core.config import load_settings
from core.db import Base, make_engine
from core.services import build_services
from tests.e2e.dashboard import CHROMIUM, free_port, running_dashboard
from tests.fakes.oidc_provider import FakeOidcProvider
from ui.auth import COOKIE_NAME

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")



@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, FakeOidcProvider]]:
    """`streamlit run Home.py` on a free port, on an empty SQLite database with one admin, Google sign-in on."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FakeOidcProvider(redirect_uris=(url + "/",)) as idp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update({"DATA_DIR": str(tmp_path / "data"), "ENVIRONMENT": "test", "DASHBOARD_BASE_URL": url,
                    "OIDC_ISSUER": idp.issuer, "OIDC_CLIENT_ID": idp.client_id,
                    "OIDC_CLIENT_SECRET": idp.client_secret, "OIDC_ALLOWED_DOMAINS": "example.com"})
        settings = load_settings(_env_file=None, data_dir=tmp_path / "data", environment="test", database_url="")
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        services = build_services(settings, engine=engine)
        create_user(services.uow(), actor=SYSTEM, data=UserInput(email="admin@example.com", name="Ada",
                                                                 roles=[Role.admin], password="a-long-password"))
        services.dispose()
        with running_dashboard(ROOT / "Home.py", port, env):
            yield url, idp


def test_google_sign_in_in_a_browser_lands_signed_in_and_survives_a_reload(dashboard) -> None:
    url, idp = dashboard
    idp.next_identity = {"sub": "42", "email": "pat@example.com", "email_verified": True, "name": "Pat Prospect"}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url, timeout=60_000)
            page.get_by_text("Sign in with Google").first.click(timeout=60_000)
            # Google's redirect brings the browser back to the dashboard, which finishes the sign-in.
            page.get_by_text("Signed in as").first.wait_for(timeout=60_000)
            assert "Pat Prospect" in page.inner_text("body")
            assert "code=" not in page.url  # the one-use code is taken out of the address bar
            # streamlit-authenticator's cookie is written by a browser component, a moment after sign-in.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                    c["name"] == COOKIE_NAME for c in page.context.cookies()):
                page.wait_for_timeout(100)
            page.reload()
            page.get_by_text("Signed in as").first.wait_for(timeout=60_000)  # the login cookie, not a new Google trip
            assert len(idp.token_requests) == 1
        finally:
            browser.close()
