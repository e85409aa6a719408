"""The `sales-agent` command line as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import runtime
from cli.main import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """An embedded setup in a temporary data folder, as on a fresh machine."""
    for name in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    runtime.settings.cache_clear()
    runtime.services.cache_clear()
    yield tmp_path / "data"
    runtime.services.cache_clear()
    runtime.settings.cache_clear()


def run(*args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result


def test_db_upgrade_then_demo_load_then_contacts_list(cli_env):
    assert run("db", "upgrade").exit_code == 0
    loaded = run("demo", "load", "--json")
    assert loaded.exit_code == 0
    assert json.loads(loaded.stdout)["contacts"] == 200
    listed = run("contacts", "list", "--limit", "3", "--json")
    data = json.loads(listed.stdout)
    assert data["total"] == 200 and len(data["items"]) == 3
    assert {"email", "company", "lifecycle_stage"} <= set(data["items"][0])
    text = run("contacts", "list", "--limit", "2").stdout
    assert "200 contacts" in text


def test_demo_load_is_idempotent(cli_env):
    run("db", "upgrade")
    first = json.loads(run("demo", "load", "--json").stdout)
    second = json.loads(run("demo", "load", "--json").stdout)
    assert first == second


def test_db_downgrade_to_base_empties_the_schema(cli_env):
    run("db", "upgrade")
    assert run("db", "downgrade", "base").exit_code == 0
    assert "empty" in run("db", "current").stdout


def test_invalid_setting_stops_start_up_naming_the_variable(cli_env, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    result = CliRunner().invoke(app, ["contacts", "list"])
    assert result.exit_code == 2
    assert "LOG_LEVEL" in result.output


def test_info_names_the_embedded_defaults_without_secrets(cli_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cr3t-value-that-must-not-leak-anywhere-000")
    out = run("info", "--json").stdout
    data = json.loads(out)
    assert data["database"] == "SQLite (embedded)" and "Huey" in data["queue"]
    assert "s3cr3t" not in out


def test_erd_check_passes_on_the_committed_document(cli_env):
    result = run("db", "erd", "--check", "--output", str(ROOT / "docs" / "DATABASE_SCHEMA.md"))
    assert result.exit_code == 0, result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except Exception:
        return 0


@pytest.mark.slow
def test_up_starts_all_three_processes_and_ctrl_c_stops_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    exe = str(Path(sys.executable).parent / "sales-agent")
    subprocess.run([exe, "db", "upgrade"], env=env, check=True, cwd=tmp_path, capture_output=True)
    dport, pport = _free_port(), _free_port()
    proc = subprocess.Popen([exe, "up", "--dashboard-port", str(dport), "--public-port", str(pport)], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        dashboard = public = 0
        while time.monotonic() < deadline and not (dashboard == 200 and public == 200):
            time.sleep(0.5)
            dashboard = _get(f"http://127.0.0.1:{dport}/_stcore/health")
            public = _get(f"http://127.0.0.1:{pport}/health")
        assert dashboard == 200 and public == 200
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
    assert f"http://127.0.0.1:{dport}" in output
    assert _get(f"http://127.0.0.1:{pport}/health") == 0  # everything stopped
    assert "worker" in output
