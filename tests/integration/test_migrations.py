"""Alembic: upgrade head → downgrade base → upgrade head on SQLite and PostgreSQL, and the migrated schema
matches the models (a model change without a migration fails here)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from core import migrations
from core.db import Base, make_engine
from core.schema_doc import update_schema_doc
from tests.conftest import make_test_settings, sqlite_test_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def empty_database(backend, tmp_path, request):
    """Settings pointing at a database with no tables at all."""
    if backend == "sqlite":
        yield sqlite_test_settings(tmp_path)
        return
    server = make_url(request.getfixturevalue("postgres_server_url"))
    name = f"sa_migr_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_test_settings(data_dir=tmp_path / "data",
                             database_url=server.set(database=name).render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(settings) -> set[str]:
    engine = make_engine(settings)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(empty_database):
    migrations.upgrade(empty_database)
    assert _tables(empty_database) == set(Base.metadata.tables)
    assert migrations.current_revision(empty_database) == migrations.head_revision(empty_database)
    migrations.downgrade(empty_database, "base")
    assert _tables(empty_database) == set()
    migrations.upgrade(empty_database)
    assert _tables(empty_database) == set(Base.metadata.tables)


def test_migrated_schema_matches_the_models(empty_database):
    migrations.upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ; add a revision: {diff}"


def test_revision_files_are_date_prefixed():
    names = [p.name for p in (ROOT / "migrations" / "versions").glob("*.py")]
    assert names
    for name in names:
        assert name[:4].isdigit() and name[4] == "_" and name[10] == "_", name


def test_schema_document_is_current():
    assert not update_schema_doc(ROOT / "docs" / "DATABASE_SCHEMA.md", write=False), (
        "docs/DATABASE_SCHEMA.md is stale: run `sales-agent db erd`")
