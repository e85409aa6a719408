"""A rep's morning in a real browser: sign in, queue ten contacts, research, draft, approve one, see the draft.

Debian's chromium driven by Playwright against `streamlit run` on loopback, with the demo data on SQLite and
HUEY_IMMEDIATE=true so batches run inside the click. Takes a screenshot of the queue in the test's tmp_path;
UPDATE_SCREENSHOTS=1 writes it to docs/screenshots/queue.png instead, refreshing the README's screenshot.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import core.models  # noqa: F401  (every table, for create_all)
from core.config import load_settings
from core.content.models import Draft, DraftStatus
from core.db import Base, make_engine
from core.demo import load_demo_data
from core.queue.models import QueueEntry, QueueStatus
from core.services import build_services
from tests.e2e.dashboard import CHROMIUM, CHROMIUM_ARGS, free_port, running_dashboard, sign_in
from ui.auth import COOKIE_NAME

ROOT = Path(__file__).resolve().parents[2]
# The README's screenshot; a run rewrites it only when asked: UPDATE_SCREENSHOTS=1 pytest tests/e2e/...
README_SCREENSHOT = ROOT / "docs" / "screenshots" / "queue.png"
STEP_MS = 60_000

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")

# Runs the real Home.py; until its navigation lists the queue pages, they are appended under "Rep workspace".
LAUNCHER = '''
import runpy
import streamlit as st

_navigation = st.navigation


def navigation(pages, **kwargs):
    listed = [p for group in (pages.values() if isinstance(pages, dict) else [pages]) for p in group]
    if isinstance(pages, dict) and not any(getattr(p, "url_path", "") == "Queue" for p in listed):
        pages = {**pages, "Rep workspace": [
            st.Page("pages/Queue.py", title="Queue", icon=":material/list:"),
            st.Page("pages/Proposal_Approval.py", title="Proposal approval", icon=":material/rate_review:"),
            st.Page("pages/Queue_Metrics.py", title="Queue metrics", icon=":material/monitoring:")]}
    return _navigation(pages, **kwargs)


st.navigation = navigation
runpy.run_path("{home}", run_name="__main__")
'''



@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    data_dir = tmp_path / "data"
    settings = load_settings(_env_file=None, data_dir=data_dir, environment="test", database_url="", redis_url="")
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    services = build_services(settings, engine=engine)
    load_demo_data(services)
    services.dispose()
    # The launcher sits next to a link to pages/, so Home.py's relative page paths resolve as in the repo.
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "pages").symlink_to(ROOT / "pages")
    (app_dir / "Home.py").write_text(LAUNCHER.replace("{home}", str(ROOT / "Home.py")), encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DATA_DIR": str(data_dir), "ENVIRONMENT": "test", "HUEY_IMMEDIATE": "true",
                "DASHBOARD_BASE_URL": url, "PYTHONPATH": str(ROOT)})
    with running_dashboard(app_dir / "Home.py", port, env) as running:
        yield running, data_dir


def _screenshot_path(tmp_path: Path) -> Path:
    """Where the queue's screenshot goes: tmp_path, unless UPDATE_SCREENSHOTS=1 asks to refresh the README's."""
    return README_SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "queue.png"


def test_rep_queues_ten_researches_drafts_and_approves_one(dashboard: tuple[str, Path], tmp_path: Path) -> None:
    url, data_dir = dashboard
    screenshot = _screenshot_path(tmp_path)
    started = time.monotonic()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(STEP_MS)
            sign_in(page, url)
            # The sign-in cookie is written by reruns just after sign-in; navigating before it lands races them.
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
                page.wait_for_timeout(100)

            page.get_by_role("link", name="Queue", exact=True).click()
            page.get_by_role("heading", name="Contact queue").first.wait_for()
            page.get_by_label("At most").fill("10")
            page.get_by_role("button", name="Add to queue").click()
            page.get_by_text("Added 10 to the queue").wait_for()

            page.get_by_role("button", name="Research 10 entries").click()
            page.get_by_text("Research started for 10 entries.").wait_for()
            page.get_by_role("button", name="Draft proposals for 10 entries").click()
            page.get_by_text("Proposals started for 10 entries.").wait_for()
            page.get_by_text("Proposals batch").first.wait_for()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)

            page.get_by_role("link", name="Proposal approval").click()
            page.get_by_role("heading", name="Proposal approval").first.wait_for()
            page.get_by_text("Facts the drafts may cite").wait_for()
            page.get_by_role("button", name="Approve").first.click()
            page.get_by_text("is approved and waits").wait_for()
            page.get_by_role("heading", name="Approved drafts").first.wait_for()  # a rerun may briefly show it twice
        finally:
            browser.close()
    duration = time.monotonic() - started
    print(f"e2e queue journey took {duration:.1f} s")
    assert screenshot.stat().st_size > 0

    settings = load_settings(_env_file=None, data_dir=data_dir, environment="test", database_url="", redis_url="")
    services = build_services(settings)
    with services.uow() as uow:
        entries = uow.session.scalars(select(QueueEntry)).all()
        assert len(entries) == 10
        approved = [e for e in entries if e.status is QueueStatus.approved]
        assert len(approved) == 1
        assert {e.status for e in entries} - {QueueStatus.approved} == {QueueStatus.draft_created}
        draft = uow.session.get(Draft, approved[0].draft_id)
        assert draft is not None and draft.status is DraftStatus.approved
    services.dispose()
