"""`sales-agent propose` and `sales-agent voice train` as a user runs them (embedded setup, offline composer)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from cli import ai, runtime, voice
from core.auth.models import Role
from core.config import load_settings
from core.db import Base, make_engine
from core.services import build_services
from tests import factories
from tests.conftest import add_user

# The commands as cli/main.py registers them; built here so these tests do not depend on every other command.
app = typer.Typer()
app.command("propose")(ai.propose)
app.add_typer(voice.app, name="voice")


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    settings = load_settings(_env_file=None)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    services = build_services(settings, engine=engine)
    runtime.settings.cache_clear()
    runtime.services.cache_clear()
    yield services
    runtime.services.cache_clear()
    runtime.settings.cache_clear()
    services.dispose()


def test_propose_prints_offline_proposals_as_json(cli_db):
    rep = add_user(cli_db, "rep@example.com", Role.sales_rep)
    factories.contact(cli_db, rep, email="john@acmelogistics.com", first_name="John", title="VP of Sales",
                      industry="Logistics", company_domain="acmelogistics.com", company_name="Acme Logistics")
    result = CliRunner().invoke(app, ["propose", "john@acmelogistics.com", "--variants", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["offline"] and len(data["proposals"]) == 2
    assert data["proposals"][0]["body"].startswith("Hi John,") and data["proposals"][0]["citations"]


def test_propose_for_an_unknown_contact_says_so(cli_db):
    result = CliRunner().invoke(app, ["propose", "nobody@example.com"])
    assert result.exit_code == 1 and "no contact with email nobody@example.com" in result.output


def test_voice_train_reports_each_source_and_saves_the_profile(cli_db, tmp_path):
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "a.txt").write_text("Hey Sam,\n\nI'm thrilled. We're shipping it next week!\n\nCheers,\nRiley")
    (folder / "b.md").write_text("Hi Jo,\n\nIt's done and it's great. Don't wait.\n\nCheers,\nRiley")
    result = CliRunner().invoke(app, ["voice", "train", "--samples", str(folder), "--profile-name", "Riley"])
    assert result.exit_code == 0, result.output
    assert result.output.count("✅") == 2 and "Voice profile 'Riley' is at version 1" in result.output
