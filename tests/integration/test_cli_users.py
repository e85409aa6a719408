"""`sales-agent users create` and `sales-agent apikeys create` as an operator runs them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import runtime
from cli.users import apikeys_app
from cli.users import app as users_app
from core.db import Base, make_engine


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.chdir(tmp_path)
    runtime.settings.cache_clear()
    runtime.services.cache_clear()
    Base.metadata.create_all(make_engine(runtime.settings()))  # the schema revision arrives with the maintainer
    yield
    runtime.services.cache_clear()
    runtime.settings.cache_clear()


def test_users_create_prompts_for_the_password_then_apikeys_create_prints_the_key_once(cli_db) -> None:
    runner = CliRunner()
    created = runner.invoke(users_app, ["create", "--email", "ops@example.com", "--name", "Ops",
                                  "--role", "admin"], input="long-password\nlong-password\n")
    assert created.exit_code == 0, created.output
    assert "ops@example.com (admin)" in created.stdout
    key = runner.invoke(apikeys_app, ["create", "--user", "ops@example.com", "--scopes",
                              "read:contacts,write:contacts", "--json"])
    assert key.exit_code == 0, key.output
    data = json.loads(key.stdout)
    assert data["key"].startswith(data["prefix"] + "_") and data["scopes"] == ["read:contacts", "write:contacts"]


def test_apikeys_create_for_unknown_user_fails_cleanly(cli_db) -> None:
    result = CliRunner().invoke(apikeys_app, ["create", "--user", "nobody@example.com", "--scopes", "read:contacts"])
    assert result.exit_code == 1 and "no user" in result.output
