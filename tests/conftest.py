"""Fixtures shared by the whole suite.

Every test that takes ``services`` runs on SQLite, and again on PostgreSQL when DATABASE_URL points at one.
With REQUIRE_SERVICES=1 (set by .ci/run) an unreachable PostgreSQL or Redis fails the run instead of skipping.
"""

from __future__ import annotations

import importlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

import core.models  # noqa: F401
from core.auth.actor import Actor
from core.auth.models import Role, User
from core.config import Settings, load_settings
from core.db import Base
from core.services import Services, build_services

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")


def unavailable(what: str, why: str) -> None:
    """Skip locally, fail in CI: a missing service must not pass silently there."""
    message = f"{what} unavailable: {why}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (REQUIRE_SERVICES=1)")
    pytest.skip(message)


def make_test_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"_env_file": None, "environment": "test", "huey_immediate": True,
                                 "secret_key": "t" * 40, "redis_url": None}
    values.update(overrides)
    return load_settings(**values)


def sqlite_test_settings(tmp_path: Path, **overrides: object) -> Settings:
    """An embedded-database Settings even when DATABASE_URL is set in the environment."""
    data_dir = tmp_path / "data"
    return make_test_settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'sales_agent.db'}",
                              **overrides)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if not POSTGRES_URL.startswith(("postgresql", "postgres:")):
        unavailable("PostgreSQL", "DATABASE_URL is not set to a postgresql:// URL")
    admin_url = make_url(load_settings(_env_file=None, database_url=POSTGRES_URL).effective_database_url)
    name = f"sa_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        unavailable("PostgreSQL", str(exc).splitlines()[0])
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema_url(postgres_server_url: str) -> Iterator[str]:
    engine = create_engine(postgres_server_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield postgres_server_url


_pg_engines: dict[str, Engine] = {}


def _empty_all_tables(url: str) -> None:
    """DELETE in reverse dependency order: several times faster than TRUNCATE for tables this small."""
    engine = _pg_engines.get(url)
    if engine is None:
        engine = _pg_engines[url] = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file with the whole schema, copied for each test instead of running create_all each time."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


def fresh_sqlite_settings(tmp_path: Path, template: Path, **overrides: object) -> Settings:
    s = sqlite_test_settings(tmp_path, **overrides)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, s.data_dir / "sales_agent.db")
    return s


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    if backend == "sqlite":
        yield fresh_sqlite_settings(tmp_path, request.getfixturevalue("sqlite_template"))
        return
    url = request.getfixturevalue("postgres_schema_url")
    yield make_test_settings(data_dir=tmp_path / "data", database_url=url)
    _empty_all_tables(url)


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    """SQLite only, for tests whose subject is not the database (pages, CLI output)."""
    return fresh_sqlite_settings(tmp_path, sqlite_template)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = build_services(settings)
    yield svc
    svc.dispose()


def add_user(services: Services, email: str, role: Role, name: str | None = None) -> Actor:
    with services.uow() as uow:
        user = User(email=email, name=name or email.split("@")[0].title(), roles=[role.value])
        uow.session.add(user)
        uow.session.flush()
        actor = Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))
        uow.commit()
    return actor


@pytest.fixture
def admin(services: Services) -> Actor:
    return add_user(services, "admin@example.com", Role.admin, "Ada Admin")


@pytest.fixture
def rep(services: Services) -> Actor:
    return add_user(services, "rep@example.com", Role.sales_rep, "Riley Rep")


@pytest.fixture
def viewer(services: Services) -> Actor:
    return add_user(services, "viewer@example.com", Role.viewer, "Vic Viewer")


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        unavailable("Redis", "REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        unavailable("Redis", str(exc))
    return REDIS_URL


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    """jobs.main (every task module), first imported, if this test is first, with an immediate in-memory queue.

    Tasks run against a test's database through jobs.huey_app.running_against(services, queue).
    """
    monkeypatch.setenv("HUEY_IMMEDIATE", "true")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "import-data"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    yield importlib.import_module("jobs.main")
    importlib.import_module("jobs.huey_app").get_settings.cache_clear()
