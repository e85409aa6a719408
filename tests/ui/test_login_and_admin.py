"""Nobody sees a page without signing in; a viewer never reaches the Admin page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.auth.actor import SYSTEM
from core.auth.models import Role
from core.auth.schemas import UserInput, UserView
from core.auth.service import create_user, suspend_user
from core.config import load_settings
from core.db import Base, make_engine
from core.services import Services, build_services
from tests.ui.auth_helpers import sign_in

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-password"


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("REDIS_URL", "")
    st.cache_resource.clear()
    st.cache_data.clear()
    settings = load_settings(_env_file=None)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    svc = build_services(settings, engine=engine)
    yield svc
    svc.dispose()
    st.cache_resource.clear()
    st.cache_data.clear()


def user(services: Services, email: str, role: Role) -> UserView:
    return create_user(services.uow(), actor=SYSTEM, data=UserInput(email=email, name=email.split("@")[0].title(),
                                                                    roles=[role], password=PASSWORD))


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / name), default_timeout=30)


def test_without_signing_in_a_page_shows_only_the_sign_in_form(services: Services) -> None:
    user(services, "admin@example.com", Role.admin)
    at = page("pages/Admin.py").run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.tabs and not at.dataframe


def test_signing_in_with_the_password_opens_the_page(services: Services) -> None:
    user(services, "admin@example.com", Role.admin)
    at = page("pages/Admin.py").run()
    at.text_input(key="auth_email").input("admin@example.com")
    at.text_input(key="auth_password").input(PASSWORD)
    at.button[0].click().run()
    assert "Admin" in [t.value for t in at.title] and not at.exception


def test_wrong_password_says_nothing_about_the_account(services: Services) -> None:
    user(services, "admin@example.com", Role.admin)
    at = page("pages/Admin.py").run()
    at.text_input(key="auth_email").input("admin@example.com")
    at.text_input(key="auth_password").input("not-the-password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Incorrect email or password."]


def test_viewer_never_reaches_admin_page(services: Services) -> None:
    viewer = user(services, "viewer@example.com", Role.viewer)
    at = sign_in(page("pages/Admin.py"), viewer.id).run()
    assert [e.value for e in at.error] == ["The Admin page is for administrators."]
    assert not at.tabs and not at.dataframe and not at.text_input


def test_admin_sees_users_keys_and_audit(services: Services) -> None:
    admin = user(services, "admin@example.com", Role.admin)
    at = sign_in(page("pages/Admin.py"), admin.id).run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Users", "API keys", "Audit log", "Activity"]
    assert "admin@example.com" in at.dataframe[0].value["email"].tolist()


def test_suspended_user_is_signed_out_at_the_next_rerun(services: Services) -> None:
    admin = user(services, "admin@example.com", Role.admin)
    other = user(services, "boss@example.com", Role.admin)
    at = sign_in(page("pages/Admin.py"), admin.id, services.clock() - timedelta(seconds=5)).run()
    assert "Admin" in [t.value for t in at.title]
    suspend_user(services.uow(), actor=SYSTEM, user_id=admin.id, now=services.clock())
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert other.id != admin.id


def test_sign_out_ends_the_session_on_the_server(services: Services) -> None:
    admin = user(services, "admin@example.com", Role.admin)
    issued = services.clock() - timedelta(seconds=5)
    at = sign_in(page("pages/Admin.py"), admin.id, issued).run()
    at.button(key="auth_sign_out").click().run()
    assert [t.value for t in at.title] == ["Sign in"]
    # The same session state replayed (as a copied cookie would be) no longer works.
    replay = sign_in(page("pages/Admin.py"), admin.id, issued).run()
    assert [t.value for t in replay.title] == ["Sign in"]
