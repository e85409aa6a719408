"""Hypothesis against every mail endpoint: never a 500, never a database change on a refused request."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.crm.models import Suppression
from core.db import Base, make_engine
from core.mail.models import MessageEvent
from core.services import Services, build_services
from public_endpoints import create_app
from public_endpoints.tracking import recorder
from tests.conftest import sqlite_test_settings

segment = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
tokenish = st.one_of(segment, st.from_regex(r"[A-Za-z0-9_.-]{10,60}", fullmatch=True))


@pytest.fixture(scope="module")
def fuzz_services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    settings = sqlite_test_settings(Path(tmp_path_factory.mktemp("fuzz")))
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    return build_services(settings, engine=engine)


_apps: dict[int, Flask] = {}


def fuzz_app(services: Services) -> Flask:
    return _apps.setdefault(id(services), create_app(services.settings, services))


def rows(services: Services) -> tuple[int, int]:
    with services.uow() as uow:
        return (int(uow.session.scalar(select(func.count()).select_from(Suppression)) or 0),
                int(uow.session.scalar(select(func.count()).select_from(MessageEvent)) or 0))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "HEAD"]), prefix=st.sampled_from(["/o/", "/c/", "/u/"]),
       token=tokenish, suffix=st.sampled_from(["", ".gif", "/resubscribe", "//evil.com", "?url=https://evil.com"]),
       body=st.one_of(st.just("List-Unsubscribe=One-Click"), segment),
       ua=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
def test_no_500_and_no_change_for_any_refused_request(fuzz_services: Services, method: str, prefix: str, token: str,
                                                      suffix: str, body: str, ua: str) -> None:
    app = fuzz_app(fuzz_services)
    client = app.test_client(use_cookies=False)
    before = rows(fuzz_services)
    response = client.open(prefix + token + suffix, method=method, data=body.encode("utf-8", "replace"),
                           content_type="application/x-www-form-urlencoded",
                           headers={"User-Agent": ua})
    with app.app_context():
        recorder().flush()
    assert response.status_code < 500
    if response.status_code == 302:  # no token here is real, so nothing may redirect
        pytest.fail(f"redirected to {response.headers.get('Location')}")
    assert rows(fuzz_services) == before
