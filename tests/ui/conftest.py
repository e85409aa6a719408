"""Dashboard tests: each page runs headless (AppTest) against a fresh SQLite database in a temp folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.auth.actor import Actor
from core.config import Settings, load_settings
from core.demo import DEMO_USER_EMAIL, load_demo_data
from core.migrations import upgrade
from core.services import Services, build_services

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


def _clear_caches() -> None:
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def dashboard_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The environment the dashboard reads (ui.runtime.get_services): SQLite and the embedded queue."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ENVIRONMENT", "test")
    # Empty rather than unset, so a developer's .env cannot point the dashboard at a real server.
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("REDIS_URL", "")
    _clear_caches()
    settings = load_settings(_env_file=None)
    upgrade(settings)
    yield settings
    _clear_caches()


@pytest.fixture
def empty_services(dashboard_settings: Settings) -> Iterator[Services]:
    services = build_services(dashboard_settings)
    yield services
    services.dispose()


@pytest.fixture
def demo_services(empty_services: Services) -> Services:
    load_demo_data(empty_services)
    return empty_services


@pytest.fixture
def demo_actor(demo_services: Services) -> Actor:
    from sqlalchemy import select

    from core.auth.models import User

    with demo_services.uow() as uow:
        user = uow.session.scalars(select(User).where(User.email == DEMO_USER_EMAIL)).one()
        return Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))


def run_page(name: str) -> AppTest:
    return AppTest.from_file(ROOT / name, default_timeout=TIMEOUT).run()


@pytest.fixture
def open_page() -> Callable[[str], AppTest]:
    """Runs one page file (``Home.py`` or ``pages/<Name>.py``) once and returns the test app."""
    return run_page
