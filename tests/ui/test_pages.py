"""Every page opens on the demo data without an exception and shows what the demo data holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.auth.actor import SYSTEM
from core.auth.models import Role
from core.auth.schemas import UserInput
from core.auth.service import create_user

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "Home.py": "Campaign performance",
    "pages/Contacts.py": "john.smith0@northwind-holdings.com",
    "pages/Companies.py": "Northwind Holdings",
    "pages/Campaigns.py": "Q1 Logistics Outbound",
    "pages/Templates.py": "Cold intro — operations leaders",
    "pages/Tasks.py": "Send Felix Garcia the case study",
}


@pytest.mark.parametrize("page", list(PAGES))
def test_page_opens_without_exception_and_shows_demo_data(page, demo_services, open_page, text_of):
    at = open_page(page)

    assert not at.exception
    assert not at.error
    tables = "\n".join(df.value.to_csv() for df in at.dataframe)
    options = "\n".join(str(o) for box in at.selectbox for o in box.options)
    assert PAGES[page] in text_of(at) + tables + options


def test_home_navigates_to_each_page(demo_services, open_page):
    at = open_page("Home.py")
    for page in ("Contacts", "Companies", "Campaigns", "Tasks", "Templates"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
        assert at.title[0].value == page


def test_every_page_file_is_in_the_navigation(demo_services, open_page):
    at = open_page("Home.py")  # the demo user is an admin, so restricted pages are listed too
    at.run()  # the menu is built before the page signs in; the next rerun knows the actor
    for path in sorted((ROOT / "pages").glob("*.py")):
        at.switch_page(f"pages/{path.name}")  # raises ValueError for a page st.navigation does not know


def test_every_table_has_a_csv_download(demo_services, open_page):
    for page, key in (("pages/Contacts.py", "contacts_csv"), ("pages/Companies.py", "companies_csv"),
                      ("pages/Campaigns.py", "campaigns_csv"), ("pages/Tasks.py", "tasks_mine_table_csv"),
                      ("pages/Templates.py", "templates_csv"), ("Home.py", "home_tasks_csv")):
        at = open_page(page)
        assert at.download_button(key=key).label


def test_pages_hide_the_forms_a_viewer_may_not_use(demo_services, open_page, text_of):
    create_user(demo_services.uow(), actor=SYSTEM, data=UserInput(
        email="vic.viewer@example.com", name="Vic Viewer", roles=[Role.viewer]))

    for page, refusal, hidden in (
        ("pages/Contacts.py", "Your role may not import contacts.", "contacts_new_submit"),
        ("pages/Companies.py", "Your role may not create companies.", "companies_new_submit"),
        ("pages/Campaigns.py", "Your role may not create campaigns.", "campaigns_new_submit"),
        ("pages/Tasks.py", "Your role may not create tasks.", "tasks_new_submit"),
    ):
        at = open_page(page, email="vic.viewer@example.com")
        assert not at.exception
        assert refusal in text_of(at)
        assert all(b.key != hidden for b in at.button)
    at = open_page("pages/Templates.py", email="vic.viewer@example.com")
    assert all(b.key != "tpl_save" for b in at.button)
