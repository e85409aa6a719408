"""Contacts page: filters, detail panel, new contact (and merge), inline edit, CSV import."""

from __future__ import annotations

import hashlib

from core.crm.models import LifecycleStage
from core.crm.service import find_contact_by_email, get_contact

PAGE = "pages/Contacts.py"
FREIGHT_CONTACT = "maria.novak1@northwindfreight.com"


def contact_id(services, actor, email: str) -> int:
    found = find_contact_by_email(services.uow(), actor=actor, email=email)
    assert found is not None
    return found.id


def test_lists_fifty_contacts_per_page_and_pages_on(demo_services, open_page):
    at = open_page(PAGE)
    first = at.dataframe(key="contacts_table").value
    assert len(first) == 50

    at.pagination(key="contacts_page").select(2).run()

    second = at.dataframe(key="contacts_table").value
    assert len(second) == 50
    assert set(first["email"]).isdisjoint(second["email"])


def test_search_and_stage_filter_narrow_the_list(demo_services, open_page):
    at = open_page(PAGE)

    at.text_input(key="contacts_search").input("northwind").run()
    at.selectbox(key="contacts_stage").select(LifecycleStage.prospect).run()

    rows = at.dataframe(key="contacts_table").value
    assert len(rows) > 0
    assert rows["email"].str.contains("northwind").all()
    assert (rows["stage"] == "Prospect").all()


def test_company_filter_shows_only_that_companys_contacts(demo_services, open_page):
    at = open_page(PAGE)
    box = at.selectbox(key="contacts_company")
    northwind_freight = next(o for o in box.options if o == "Northwind Freight")

    box.select(northwind_freight).run()

    rows = at.dataframe(key="contacts_table").value
    assert len(rows) > 0
    assert (rows["company"] == "Northwind Freight").all()


def test_detail_shows_company_hierarchy_tasks_and_drafts(demo_services, demo_actor, open_page, text_of):
    at = open_page(PAGE)
    at.session_state["contact_open_id"] = contact_id(demo_services, demo_actor, FREIGHT_CONTACT)
    at.run()

    text = text_of(at)
    assert "Maria Novak" in text
    assert "Hierarchy: Northwind Holdings > Northwind Freight" in text
    assert any(t.label.startswith("Tasks (") for t in at.tabs)
    assert any(t.label.startswith("Drafts (") for t in at.tabs)


def test_new_contact_form_creates_a_contact(demo_services, demo_actor, open_page, text_of):
    at = open_page(PAGE)
    at.text_input(key="contacts_new_email").input("Ada.Lovelace@Analytical-Engines.com")
    at.text_input(key="contacts_new_first").input("Ada")
    at.text_input(key="contacts_new_last").input("Lovelace")
    at.text_input(key="contacts_new_domain").input("analytical-engines.com")
    at.selectbox(key="contacts_new_stage").select("engaged")
    at.button(key="contacts_new_submit").click().run()

    assert not at.exception
    assert "Created Ada Lovelace." in text_of(at)
    created = find_contact_by_email(demo_services.uow(), actor=demo_actor, email="ada.lovelace@analytical-engines.com")
    assert created is not None
    assert created.lifecycle_stage is LifecycleStage.engaged
    assert created.company is not None and created.company.domain == "analytical-engines.com"


def test_new_contact_with_an_existing_email_says_it_merged(demo_services, open_page, text_of):
    at = open_page(PAGE)
    at.text_input(key="contacts_new_email").input(FREIGHT_CONTACT)
    at.button(key="contacts_new_submit").click().run()

    assert f"{FREIGHT_CONTACT} already existed: merged" in text_of(at)


def test_invalid_new_contact_is_refused_inline(demo_services, open_page):
    at = open_page(PAGE)
    at.button(key="contacts_new_submit").click().run()

    assert not at.exception
    assert at.error


def test_stage_and_owner_are_edited_inline_and_show_in_history(demo_services, demo_actor, open_page):
    cid = contact_id(demo_services, demo_actor, FREIGHT_CONTACT)
    at = open_page(PAGE)
    at.session_state["contact_open_id"] = cid
    at.run()

    at.selectbox(key=f"contact_stage_{cid}").select("meeting")
    at.selectbox(key=f"contact_owner_{cid}").select(demo_actor.user_id)
    at.button(key="contact_save").click().run()

    assert not at.exception
    saved = get_contact(demo_services.uow(), actor=demo_actor, contact_id=cid)
    assert saved.lifecycle_stage is LifecycleStage.meeting
    assert saved.owner_id == demo_actor.user_id
    history = next(df.value for df in at.dataframe if "action" in df.value.columns)
    assert history.iloc[0]["action"] == "update"
    assert "lifecycle_stage" in history.iloc[0]["changes"]


CSV = (b"Email,First Name,Last Name,Company Name\n"
       b"grace.hopper@cobol-systems.com,Grace,Hopper,Cobol Systems\n"
       b"not-an-email,Bad,Row,Nowhere\n"
       b"alan.turing@bletchley-park.org,Alan,Turing,Bletchley Park\n")


def upload(at, data: bytes = CSV):
    at.file_uploader(key="contacts_import_file").set_value(("people.csv", data, "text/csv")).run()
    return at


def test_csv_import_shows_the_detected_mapping(demo_services, open_page):
    at = upload(open_page(PAGE))

    mapping = at.data_editor[0].value
    assert dict(zip(mapping["CSV column"], mapping["field"], strict=True)) == {
        "Email": "email", "First Name": "first_name", "Last Name": "last_name", "Company Name": "company_name"}


def test_csv_import_reports_counts_and_row_errors(demo_services, demo_actor, open_page, table):
    at = upload(open_page(PAGE))

    at.button(key="contacts_import_run").click().run()

    assert not at.exception
    counts = {m.label: m.value for m in at.metric}
    assert counts["Rows"] == "3" and counts["Created"] == "2" and counts["Failed"] == "1"
    errors = table(at, "reason")
    assert errors.iloc[0]["line"] == 3
    assert at.download_button(key="contacts_import_errors_csv")
    assert at.get("progress")
    assert find_contact_by_email(demo_services.uow(), actor=demo_actor, email="grace.hopper@cobol-systems.com")


def test_csv_import_uses_the_edited_mapping(demo_services, demo_actor, open_page):
    at = upload(open_page(PAGE))
    editor_key = "contacts_import_mapping_" + hashlib.sha1(CSV).hexdigest()[:10]
    at.session_state[editor_key] = {"edited_rows": {2: {"field": "(ignore)"}}, "added_rows": [], "deleted_rows": []}
    at.run()

    at.button(key="contacts_import_run").click().run()

    grace = find_contact_by_email(demo_services.uow(), actor=demo_actor, email="grace.hopper@cobol-systems.com")
    assert grace is not None and grace.first_name == "Grace" and grace.last_name is None
