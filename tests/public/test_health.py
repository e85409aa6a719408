from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

import core
from core.db import Base, make_engine
from core.errors import Conflict, ConnectorError, NotFound, PermissionDenied, ValidationFailed
from core.ops.service import record_heartbeat
from core.services import Services, build_services
from public_endpoints import create_app
from tests.conftest import make_test_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services.settings, services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_health_is_ok_with_version_and_database(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["version"] == core.__version__
    assert body["database"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_health_reports_no_worker_before_any_heartbeat(client: FlaskClient) -> None:
    worker = client.get("/health").get_json()["worker"]
    assert worker == {"running": False, "last_beat_at": None, "summary": "No worker has run yet"}


def test_health_shows_worker_running_after_a_heartbeat(client: FlaskClient, services: Services) -> None:
    record_heartbeat(services.uow(), worker="host:1", version=core.__version__)
    response = client.get("/health")
    assert response.status_code == 200
    worker = response.get_json()["worker"]
    assert worker["running"] is True
    assert worker["summary"].startswith("Worker running (last beat")
    assert "host:1" not in response.get_data(as_text=True)  # host names stay private


def test_request_id_is_generated_when_absent(client: FlaskClient) -> None:
    request_id = client.get("/health").headers["X-Request-ID"]
    assert len(request_id) == 32
    int(request_id, 16)


def test_valid_request_id_is_echoed(client: FlaskClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "edge-proxy.1234_abcd"})
    assert response.headers["X-Request-ID"] == "edge-proxy.1234_abcd"


@pytest.mark.parametrize("bad", ["has spaces in it", "x" * 500, "short", "semi;colon-0001"])
def test_invalid_request_id_is_replaced(client: FlaskClient, bad: str) -> None:
    request_id = client.get("/health", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
    assert request_id != bad
    assert len(request_id) == 32


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    for response in (client.get("/health"), client.get("/no-such-page")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_unknown_route_is_problem_json_with_request_id(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"X-Request-ID": "trace-abcdef12"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["type"] == "about:blank"
    assert body["request_id"] == "trace-abcdef12"
    assert response.headers["X-Request-ID"] == "trace-abcdef12"


def test_wrong_method_is_405_problem_with_allow_header(client: FlaskClient) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_request_body_over_2_mb_is_rejected(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("contact 7 not found"), 404),
        (ValidationFailed("email is invalid", details={"email": "invalid"}), 422),
        (Conflict("already exists"), 409),
        (PermissionDenied("not allowed"), 403),
        (ConnectorError("HubSpot said 429 for token abc", connector="hubspot", retryable=True,
                        retry_after=7), 503),
        (ConnectorError("gmail refused", connector="gmail", retryable=False), 502),
    ],
    ids=["not-found", "validation", "conflict", "permission", "connector-retryable", "connector-final"],
)
def test_core_errors_become_problem_responses(services: Services, error: Exception, status: int) -> None:
    app = create_app(services.settings, services)

    @app.get("/boom")
    def boom() -> str:
        raise error

    response = app.test_client().get("/boom")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("urn:sales-agent:problem:")
    assert body["request_id"] == response.headers["X-Request-ID"]
    if isinstance(error, ConnectorError):
        assert "token abc" not in response.get_data(as_text=True)
        assert response.headers.get("Retry-After") == ("7" if error.retryable else None)
    else:
        assert body["detail"] == str(error)
    if isinstance(error, ValidationFailed):
        assert body["errors"] == {"email": "invalid"}


def test_unexpected_error_is_500_without_internals(services: Services) -> None:
    app = create_app(services.settings, services)

    @app.get("/crash")
    def crash() -> str:
        raise RuntimeError("password=hunter2 at /srv/app/secret.py")

    response = app.test_client().get("/crash")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "secret.py" not in text and "Traceback" not in text
    assert response.get_json(force=True)["request_id"] == response.headers["X-Request-ID"]


def unreachable_services(kind: str, tmp_path: Path) -> Services:
    if kind == "sqlite":
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("a file where a folder should be")
        url = f"sqlite:///{blocker / 'missing' / 'db.sqlite'}"
    else:
        url = f"postgresql+psycopg://sales:hunter2@127.0.0.1:{free_port()}/nowhere"
    return build_services(make_test_settings(data_dir=tmp_path / "data", database_url=url))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_health_is_503_degraded_when_database_unreachable(tmp_path: Path, kind: str) -> None:
    services = unreachable_services(kind, tmp_path)
    try:
        response = create_app(services.settings, services).test_client().get("/health")
    finally:
        services.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"].startswith("unreachable: ")
    assert body["worker"]["running"] is False
    assert "hunter2" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_real_server_answers_health(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = make_test_settings(data_dir=data_dir)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    engine.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATA_DIR=str(data_dir), ENVIRONMENT="test", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "public_endpoints.serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    status = response.status
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert status == 200, f"server did not answer /health in time (exit code {proc.poll()})"
    finally:
        proc.terminate()
        try:
            output, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert f"http://127.0.0.1:{port}" in output
