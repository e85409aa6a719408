"""Opening Templates the moment sign-in finishes, in a real browser: the editor shows the chosen template.

Right after sign-in the dashboard reruns for a while to write the sign-in cookie (ui/auth.py). A click on
Templates then races those reruns, and the browser could miss the run that sent the editor's values and show
"+ New template" with an empty body although the server held the template (pages/Templates.py explains the
fix). Debian's chromium driven by Playwright against `streamlit run` on loopback, demo data on SQLite.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.auth.actor import Actor
from core.auth.models import User
from core.config import load_settings
from core.content.service import list_templates
from core.demo import DEMO_USER_EMAIL, load_demo_data
from core.migrations import upgrade
from core.services import Services, build_services
from tests.e2e.dashboard import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, running_dashboard, sign_in

STEP_MS = 20_000

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")



def _demo_templates(services: Services) -> dict[str, tuple[str, str]]:
    """The demo templates' latest (subject, body) by name, as the demo user reads them."""
    with services.uow() as uow:
        user = uow.session.scalars(select(User).where(User.email == DEMO_USER_EMAIL)).one()
        actor = Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))
    return {t.name: (t.latest.subject, t.latest.body) for t in list_templates(services.uow(), actor=actor)}


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, dict[str, tuple[str, str]]]]:
    """The dashboard on the demo data (migrated SQLite), and the demo templates."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    data_dir = tmp_path / "data"
    settings = load_settings(_env_file=None, data_dir=data_dir, environment="test", database_url="", redis_url="")
    upgrade(settings)
    services = build_services(settings)
    load_demo_data(services)
    templates = _demo_templates(services)
    services.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DATA_DIR": str(data_dir), "ENVIRONMENT": "test", "DASHBOARD_BASE_URL": f"http://127.0.0.1:{port}",
                "PYTHONPATH": str(ROOT)})
    with running_dashboard(ROOT / "Home.py", port, env) as url:
        yield url, templates


def _open_templates(page: Any) -> None:
    """Click Templates in the menu. A click in the first moments after sign-in is sometimes lost to a sign-in
    rerun that still carries Home (the page stays on Home); then it is clicked again, as a user would."""
    for _ in range(3):
        page.get_by_role("link", name="Templates", exact=True).click()
        try:
            page.get_by_role("heading", name="Templates").first.wait_for(timeout=5_000)
            return
        except sync_api.TimeoutError:
            continue
    pytest.fail("the Templates page did not open")


def test_templates_opened_right_after_sign_in_shows_the_chosen_template(dashboard) -> None:
    url, templates = dashboard
    started = time.monotonic()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(STEP_MS)
            sign_in(page, url)
            _open_templates(page)  # at once: the sign-in cookie is still being written by reruns

            body = page.get_by_label("Body").first
            body.wait_for()
            shown = []
            for _ in range(3):  # across the sign-in reruns that follow
                shown.append((page.get_by_label("Template", exact=True).first.input_value(),
                              page.get_by_label("Subject").first.input_value(),
                              body.input_value()))
                page.wait_for_timeout(1_500)
        finally:
            browser.close()
    print(f"e2e templates journey took {time.monotonic() - started:.1f} s")

    for name, subject, text in shown:
        assert name in templates, f"the editor shows {name!r}, not a template"
        assert (subject, text) == templates[name]
        assert text.strip()
