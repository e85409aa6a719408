"""The deployment files a user relies on: docker-compose.yml, Dockerfile, the CI workflow, .env.example and
the Streamlit config. Schemas are check-jsonschema's vendored copies, so this runs offline."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
ENV_EXAMPLE = ROOT / ".env.example"
STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"

APP_SERVICES = {"migrate", "dashboard", "public", "worker"}
LONG_RUNNING = {"dashboard", "public", "worker"}
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|API_KEY)", re.IGNORECASE)


def check_jsonschema(builtin_schema: str, path: Path) -> None:
    """Validate with check-jsonschema's builtin (vendored, offline) schema; fail with its report."""
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", builtin_schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"{path.name} does not match {builtin_schema}:\n{result.stdout}{result.stderr}"
    )


def load_yaml(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:  # pyyaml arrives through streamlit-authenticator; ruamel through check-jsonschema
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(text)
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["NAME=value", ...] form
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command(service: dict[str, Any]) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


# --- docker-compose.yml -----------------------------------------------------------------------------------


def test_compose_matches_the_compose_specification() -> None:
    check_jsonschema("vendor.compose-spec", COMPOSE)


def test_compose_has_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


def test_compose_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli" in str(services["redis"]["healthcheck"]["test"])
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])


def test_app_services_share_one_image_and_the_production_environment(compose: dict[str, Any]) -> None:
    builds = {str(compose["services"][name].get("build")) for name in APP_SERVICES}
    assert builds == {"."}
    for name in APP_SERVICES:
        env = environment(compose["services"][name])
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://sales:"), name
        assert env["DATABASE_URL"].endswith("@postgres:5432/sales"), name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        assert env["ENVIRONMENT"] == "production", name
        assert env["LOG_FORMAT"] == "json", name
        assert "PUBLIC_BASE_URL" in env, name
        assert env["SECRET_KEY_FILE"] == "/run/secrets/secret_key", name
        assert "secret_key" in str(compose["services"][name].get("secrets")), name


def test_commands_and_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert command(services["migrate"]) == "sales-agent db upgrade"
    assert command(services["dashboard"]) == "sales-agent serve dashboard --port 8501"
    assert (
        command(services["public"])
        == "gunicorn -c public_endpoints/gunicorn_conf.py --bind 0.0.0.0:8502 public_endpoints:create_app()"
    )
    assert command(services["worker"]) == "sales-agent worker"
    assert "8501:8501" in [str(p) for p in services["dashboard"]["ports"]]
    assert "8502:8502" in [str(p) for p in services["public"]["ports"]]


def test_every_long_running_app_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), f"{name} has no healthcheck"
    assert "/_stcore/health" in str(services["dashboard"]["healthcheck"]["test"])
    assert ":8502/health" in str(services["public"]["healthcheck"]["test"])
    assert "healthcheck" not in services["migrate"]
    assert str(services["migrate"]["restart"]) == "no"


def test_dependency_conditions(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in LONG_RUNNING:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_no_secret_values_inline(compose: dict[str, Any]) -> None:
    assert compose["secrets"]["secret_key"] == {"file": "./secrets/secret_key.txt"}
    for name, service in compose["services"].items():
        env = environment(service)
        assert "SECRET_KEY" not in env, f"{name} sets SECRET_KEY inline; use SECRET_KEY_FILE"
        for key, value in env.items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert value.startswith("${"), f"{name}: {key} is a literal; take it from the environment"
    text = COMPOSE.read_text(encoding="utf-8")
    assert "secrets.token_urlsafe(48)" in text  # how to create the secret file is documented


# --- Dockerfile ---------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for parts in (x.split(None, 1) for x in logical)
    ]


def test_dockerfile_runs_as_non_root_and_installs_with_pip() -> None:
    instructions = dockerfile_instructions()
    froms = [args for op, args in instructions if op == "FROM"]
    assert froms and all(f.startswith("python:3.11-slim") for f in froms)
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [args.strip() for op, args in final_stage if op == "USER"]
    assert users, "the final stage must switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert re.search(r"\bpip install\b[^&;]*\s\.(\s|$)", runs), (
        "the project is installed with `pip install .`"
    )
    assert "[dev]" not in runs
    env = " ".join(args for op, args in instructions if op == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    cmds = [args for op, args in instructions if op == "CMD"]
    assert cmds[-1] == '["sales-agent", "serve", "public", "--host", "0.0.0.0"]'


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert {".env", "secrets", ".venv", ".git", "data"} <= ignored


# --- CI workflow ----------------------------------------------------------------------------------------------


def test_ci_workflow_matches_the_github_workflow_schema() -> None:
    check_jsonschema("vendor.github-workflows", WORKFLOW)


def test_ci_runs_dot_ci_run_against_real_services() -> None:
    workflow = load_yaml(WORKFLOW)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert {"push", "pull_request"} <= set(triggers if isinstance(triggers, list | dict) else [triggers])
    (job,) = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert job["services"]["postgres"]["image"] == "postgres:16"
    assert job["services"]["redis"]["image"] == "redis:7"
    steps = job["steps"]
    assert any(str(s.get("uses", "")).startswith("actions/checkout@") for s in steps)
    setup = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert str(setup["with"]["python-version"]) == "3.11"
    run = next(s for s in steps if "bash .ci/run" in str(s.get("run", "")))
    assert str(run["env"]["REQUIRE_SERVICES"]) == "1"
    assert run["env"]["DATABASE_URL"].startswith("postgresql+psycopg://postgres:postgres@127.0.0.1:5432/")
    assert run["env"]["REDIS_URL"] == "redis://127.0.0.1:6379/0"


# --- .env.example -------------------------------------------------------------------------------------------


def env_example_names() -> list[str]:
    pattern = re.compile(r"^#?\s?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return pattern.findall(ENV_EXAMPLE.read_text(encoding="utf-8"))


def test_env_example_documents_every_setting_in_class_order() -> None:
    documented = env_example_names()
    fields = [name.upper() for name in Settings.model_fields]
    missing = [name for name in fields if name not in documented]
    assert not missing, f".env.example does not document {missing}: add a line for each new setting"
    assert [name for name in documented if name in fields] == fields, "keep .env.example in Settings order"


def test_env_example_loads_as_an_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(f"{name.upper()}_FILE", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    Settings(_env_file=env_file)  # every uncommented line is a valid value


def test_env_example_marks_later_integrations_as_not_yet_read() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    section = text.split("Integrations (configured by later releases)", 1)[1]
    assert "NOT YET READ" in section.upper()
    for name in ():
        assert re.search(rf"^# {name}=", section, re.MULTILINE), f"{name} must be listed, commented out"
    assert "SECRET_KEY_FILE" in text.split("Secrets", 1)[1]


# --- .streamlit/config.toml ---------------------------------------------------------------------------------


def test_streamlit_config_uses_known_options() -> None:
    from streamlit import config as st_config

    known = getattr(st_config, "_config_options_template", None)
    if not known:
        pytest.skip("this streamlit does not expose its option table")
    data = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    options = {f"{section}.{key}": value for section, values in data.items() for key, value in values.items()}
    unknown = sorted(set(options) - set(known))
    assert not unknown, f"unknown streamlit options: {unknown}"
    assert options["server.headless"] is True
    assert options["browser.gatherUsageStats"] is False
    assert options["server.runOnSave"] is False
    assert options["client.toolbarMode"] == "minimal"
    assert options["client.showErrorDetails"] == "none"
