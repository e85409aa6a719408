"""Dashboard tests: each page runs headless (AppTest) against a fresh SQLite database in a temp folder."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.auth.actor import Actor
from core.auth.models import User
from core.config import Settings, load_settings
from core.demo import DEMO_USER_EMAIL, load_demo_data
from core.migrations import upgrade
from core.services import Services, build_services
from ui.auth import SESSION_KEY

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


def _clear_caches() -> None:
    st.cache_resource.clear()
    st.cache_data.clear()


def _create_schema(settings: Settings) -> None:
    """The schema exactly as a deployment gets it: the Alembic migrations, not create_all."""
    upgrade(settings)


def _settings(data_dir: Path) -> Settings:
    # Empty URLs rather than unset, so neither the environment nor a developer's .env can point the
    # dashboard at a real server.
    return load_settings(_env_file=None, data_dir=data_dir, environment="test", database_url="", redis_url="")


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database holding the demo data, built once and copied for each test that wants it."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    settings = _settings(data_dir)
    _create_schema(settings)
    services = build_services(settings)
    load_demo_data(services)
    services.dispose()
    return data_dir


@pytest.fixture
def data_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """This test's DATA_DIR: a copy of the demo database when the test asks for demo data, else empty."""
    target = tmp_path / "data"
    if "demo_services" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("demo_data_dir"), target)
    return target


@pytest.fixture
def dashboard_settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The environment the dashboard reads (ui.runtime.get_services): SQLite and the embedded queue."""
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("REDIS_URL", "")
    _clear_caches()
    settings = _settings(data_dir)
    if not (data_dir / "sales_agent.db").exists():
        _create_schema(settings)
    yield settings
    _clear_caches()


@pytest.fixture
def empty_services(dashboard_settings: Settings) -> Iterator[Services]:
    services = build_services(dashboard_settings)
    yield services
    services.dispose()


@pytest.fixture
def demo_services(empty_services: Services) -> Services:
    """Services on a private copy of the demo database (see data_dir)."""
    return empty_services


@pytest.fixture
def demo_actor(demo_services: Services) -> Actor:
    with demo_services.uow() as uow:
        user = uow.session.scalars(select(User).where(User.email == DEMO_USER_EMAIL)).one()
        return Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))


def signed_in_as(services: Services, email: str = DEMO_USER_EMAIL) -> dict[str, object]:
    """The server-side session ui.auth keeps for a signed-in user (what its sign-in form stores)."""
    with services.uow() as uow:
        user_id = uow.session.scalars(select(User.id).where(User.email == email)).one()
    return {"user_id": user_id, "issued_at": datetime.now(UTC).isoformat()}


@pytest.fixture
def open_page(empty_services: Services) -> Callable[..., AppTest]:
    """Runs one page file (``Home.py`` or ``pages/<Name>.py``) once, signed in (as the demo user unless
    ``email`` says otherwise), and returns the test app."""

    def run(name: str, *, email: str = DEMO_USER_EMAIL) -> AppTest:
        at = AppTest.from_file(ROOT / name, default_timeout=TIMEOUT)
        at.session_state[SESSION_KEY] = signed_in_as(empty_services, email)
        return at.run()

    return run


def page_text(at: AppTest) -> str:
    """Everything a user reads on the page (headings, markdown, captions, alerts), for assertions."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "error", "warning", "info", "success",
                 "code", "text"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


@pytest.fixture
def text_of() -> Callable[[AppTest], str]:
    return page_text


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has this column (keys of read-only tables are not exposed)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a {column!r} column")


@pytest.fixture
def table() -> Callable[[AppTest, str], pd.DataFrame]:
    return table_with
