"""Rate limits on /api/v1: the 101st request in the window gets 429 with Retry-After."""

from __future__ import annotations

import uuid

import pytest

from core.auth.models import Role
from core.config import Settings
from core.db import Base, make_engine
from core.services import build_services
from public_endpoints import create_app
from tests.conftest import sqlite_test_settings
from tests.public.api_helpers import api_key, api_user


def _hammer(settings: Settings, n: int = 101) -> list[object]:
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    services = build_services(settings, engine=engine)
    client = create_app(settings, services).test_client()
    key = api_key(services, api_user(services, f"{uuid.uuid4().hex[:8]}@example.com", Role.admin), "read:contacts")
    responses = [client.get("/api/v1/contacts?limit=1", headers={"X-API-Key": key}) for _ in range(n)]
    services.dispose()
    return responses


def test_101st_request_in_the_window_gets_429_in_memory(tmp_path) -> None:
    responses = _hammer(sqlite_test_settings(tmp_path, api_rate_limit_default="100 per minute"))
    assert [r.status_code for r in responses[:100]] == [200] * 100
    last = responses[100]
    assert last.status_code == 429 and last.mimetype == "application/problem+json"
    assert int(last.headers["Retry-After"]) > 0


@pytest.mark.redis
def test_101st_request_in_the_window_gets_429_on_redis(tmp_path, redis_url: str) -> None:
    responses = _hammer(sqlite_test_settings(tmp_path, redis_url=redis_url, api_rate_limit_default="100 per minute"))
    assert responses[99].status_code == 200
    assert responses[100].status_code == 429 and int(responses[100].headers["Retry-After"]) > 0


def test_limit_is_configurable_per_endpoint(tmp_path) -> None:
    settings = sqlite_test_settings(tmp_path, api_rate_limits={"api_v1.list_contacts": "3 per minute"})
    codes = [r.status_code for r in _hammer(settings, 4)]
    assert codes == [200, 200, 200, 429]


def test_without_credentials_the_limit_is_per_address(tmp_path) -> None:
    settings = sqlite_test_settings(tmp_path, api_rate_limit_default="2 per minute")
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    client = create_app(settings, build_services(settings, engine=engine)).test_client()
    codes = [client.get("/api/v1/contacts").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def _app_with_keys(settings: Settings, n_keys: int):
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    services = build_services(settings, engine=engine)
    user = api_user(services, f"{uuid.uuid4().hex[:8]}@example.com", Role.admin)
    keys = [api_key(services, user, "read:contacts") for _ in range(n_keys)]
    return create_app(settings, services).test_client(), keys


def test_keys_used_from_one_address_also_share_the_per_address_limit(tmp_path) -> None:
    settings = sqlite_test_settings(tmp_path, api_rate_limit_default="100 per minute",
                                    api_rate_limit_per_address="3 per minute")
    client, (first, second) = _app_with_keys(settings, 2)
    codes = [client.get("/api/v1/contacts", headers={"X-API-Key": key}).status_code
             for key in (first, second, first, second)]
    assert codes == [200, 200, 200, 429]
    elsewhere = client.get("/api/v1/contacts", headers={"X-API-Key": second},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert elsewhere.status_code == 200


def test_guessing_keys_from_one_address_is_limited(tmp_path) -> None:
    settings = sqlite_test_settings(tmp_path, api_rate_limit_per_address="3 per minute")
    client, _ = _app_with_keys(settings, 0)
    guesses = [f"sa_{i:012x}_{uuid.uuid4().hex}" for i in range(4)]
    codes = [client.get("/api/v1/contacts", headers={"X-API-Key": g}).status_code for g in guesses]
    assert codes == [401, 401, 401, 429]
