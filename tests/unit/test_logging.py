from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from core.config import Settings, load_settings
from core.logging import bind_trace_id, configure_logging, get_logger


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def production() -> Settings:
    return load_settings(_env_file=None, environment="production", secret_key="p" * 40,
                         database_url="postgresql://db/sales")


def development() -> Settings:
    return load_settings(_env_file=None, environment="development")


def json_lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_production_emits_one_json_object_per_line_with_trace_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(production())
    trace_id = bind_trace_id(request="r1")
    log = get_logger("test")
    log.info("first", n=1)
    log.warning("second")
    first, second = json_lines(capsys.readouterr().err)
    assert first["event"] == "first" and first["n"] == 1 and first["level"] == "info"
    assert second["event"] == "second" and second["level"] == "warning"
    assert first["trace_id"] == second["trace_id"] == trace_id
    assert "timestamp" in first


def test_standard_library_records_are_json_too_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(production())
    bind_trace_id("trace-1234")
    logging.getLogger("huey").warning("task %s locked", "heartbeat")
    (record,) = json_lines(capsys.readouterr().err)
    assert record["event"] == "task heartbeat locked"
    assert record["trace_id"] == "trace-1234"


def test_development_uses_the_console_renderer(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(development())
    bind_trace_id("trace-5678")
    get_logger().info("hello console", n=2)
    err = capsys.readouterr().err
    assert "hello console" in err
    assert "trace_id=trace-5678" in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err.splitlines()[0])


def test_level_below_log_level_is_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings(_env_file=None, log_level="WARNING", log_format="json"))
    get_logger().info("quiet")
    get_logger().warning("loud")
    assert [r["event"] for r in json_lines(capsys.readouterr().err)] == ["loud"]


@pytest.mark.parametrize("settings", [production, development], ids=["json", "console"])
def test_secrets_are_redacted(capsys: pytest.CaptureFixture[str], settings: object) -> None:
    configure_logging(settings())  # type: ignore[operator]
    get_logger().info("login", password="x-pass-1", api_key="y-key-2", access_token="z-tok-3", user="ada")
    err = capsys.readouterr().err
    assert "***" in err
    for secret in ("x-pass-1", "y-key-2", "z-tok-3"):
        assert secret not in err
    assert "ada" in err


def test_bind_trace_id_starts_a_fresh_context() -> None:
    bind_trace_id("one", task="a")
    bind_trace_id("two")
    assert structlog.contextvars.get_contextvars() == {"trace_id": "two"}


def test_standard_library_exceptions_keep_their_traceback_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(production())
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger("huey").exception("Unhandled exception in task")
    (record,) = json_lines(capsys.readouterr().err)
    assert "ZeroDivisionError: division by zero" in str(record.get("exception"))
