"""Home: the overview's metrics, charts, worker status and connectors; the empty-database start."""

from __future__ import annotations

from core.auth.actor import SYSTEM
from core.auth.models import Role
from core.auth.schemas import UserInput
from core.auth.service import create_first_admin, create_user
from core.crm.service import list_contacts
from core.ops.service import record_heartbeat


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_home_shows_the_overview_metrics(demo_services, open_page):
    at = open_page("Home.py")

    assert metrics(at) == {"Contacts": "200", "Companies": "40", "Active campaigns": "2", "Open tasks": "29",
                           "Drafts awaiting approval": "4"}


def test_home_charts_the_funnel_and_campaign_performance(demo_services, open_page):
    at = open_page("Home.py")

    charts = at.get("plotly_chart")
    assert len(charts) == 2


def test_home_warns_when_no_worker_runs(demo_services, open_page):
    at = open_page("Home.py")

    assert any("No worker has run yet" in w.value for w in at.warning)


def test_home_says_the_worker_runs_after_a_heartbeat(demo_services, open_page):
    record_heartbeat(demo_services.uow(), worker="host:1", version="test")

    at = open_page("Home.py")

    assert not at.warning
    assert any("Worker running" in s.value for s in at.success)


def test_home_labels_the_embedded_connectors(demo_services, open_page):
    at = open_page("Home.py")

    panel = next(df.value for df in at.dataframe if "concern" in df.value.columns)
    database = panel[panel["concern"] == "Database"].iloc[0]
    assert database["active"] == "SQLite (embedded)"
    assert database["note"] == "embedded default"


def test_empty_database_offers_the_demo_data_and_loads_it(empty_services, open_page, text_of):
    admin = create_first_admin(empty_services.uow(), data=UserInput(
        email="first.admin@example.com", name="First Admin", password="correct horse battery"))
    at = open_page("Home.py", email=admin.email)
    assert "The database is empty" in text_of(at)
    assert not at.metric

    at.button(key="home_load_demo").click().run()

    assert not at.exception
    assert metrics(at)["Contacts"] == "200"
    assert "Demo data loaded" in text_of(at)
    assert list_contacts(empty_services.uow(), actor=SYSTEM, limit=1).total == 200


def test_only_an_admin_may_load_the_demo_data(empty_services, open_page, text_of):
    create_first_admin(empty_services.uow(), data=UserInput(
        email="first.admin@example.com", name="First Admin", password="correct horse battery"))
    create_user(empty_services.uow(), actor=SYSTEM, data=UserInput(
        email="vic.viewer@example.com", name="Vic Viewer", roles=[Role.viewer]))

    at = open_page("Home.py", email="vic.viewer@example.com")

    assert "Ask an administrator to load the demo data" in text_of(at)
    assert all(b.key != "home_load_demo" for b in at.button)
