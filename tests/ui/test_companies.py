"""Companies page: search, hierarchy detail, set parent (cycles refused inline), create form."""

from __future__ import annotations

from core.crm.companies import find_company_by_domain, get_company

PAGE = "pages/Companies.py"


def company_id(services, actor, domain: str) -> int:
    found = find_company_by_domain(services.uow(), actor=actor, domain=domain)
    assert found is not None
    return found.id


def open_detail(at, cid: int):
    at.session_state["company_open_id"] = cid
    return at.run()


def test_search_and_industry_filter(demo_services, open_page):
    at = open_page(PAGE)
    at.text_input(key="companies_search").input("northwind").run()
    assert set(at.dataframe(key="companies_table").value["name"]) == {
        "Northwind Holdings", "Northwind Freight", "Northwind Cold Chain", "Northwind Air Cargo"}

    at.text_input(key="companies_search").input("").run()
    at.selectbox(key="companies_industry").select("Healthcare").run()
    assert set(at.dataframe(key="companies_table").value["name"]) == {"Umbrella Health", "Umbrella Diagnostics"}


def test_detail_shows_parent_chain_and_subsidiary_tree(demo_services, demo_actor, open_page, text_of, table):
    at = open_detail(open_page(PAGE), company_id(demo_services, demo_actor, "globex-group.com"))
    text = text_of(at)
    assert "- Globex Industrial (globex-industrial.com)\n  - Globex Robotics (globexrobotics.io)" in text
    assert "Top-level company." in text
    assert len(table(at, "email")) == 5  # the demo puts 5 contacts at each company

    open_detail(at, company_id(demo_services, demo_actor, "globexrobotics.io"))
    assert "Parent chain: Globex Group > Globex Industrial > Globex Robotics" in text_of(at)


def test_set_parent_refuses_a_cycle_inline(demo_services, demo_actor, open_page, text_of):
    holdings = company_id(demo_services, demo_actor, "northwind-holdings.com")
    freight = company_id(demo_services, demo_actor, "northwindfreight.com")
    at = open_detail(open_page(PAGE), holdings)

    at.selectbox(key=f"company_parent_{holdings}").select(freight)
    at.button(key="company_set_parent").click().run()

    assert not at.exception
    assert any("cycle refused" in e.value for e in at.error)
    assert get_company(demo_services.uow(), actor=demo_actor, company_id=holdings).parent_id is None


def test_set_parent_moves_a_company(demo_services, demo_actor, open_page, text_of):
    acme = company_id(demo_services, demo_actor, "acmelogistics.com")
    holdings = company_id(demo_services, demo_actor, "northwind-holdings.com")
    at = open_detail(open_page(PAGE), acme)

    at.selectbox(key=f"company_parent_{acme}").select(holdings)
    at.button(key="company_set_parent").click().run()

    assert "Acme Logistics now sits under Northwind Holdings." in text_of(at)
    assert get_company(demo_services.uow(), actor=demo_actor, company_id=acme).parent_id == holdings
    assert "Parent chain: Northwind Holdings > Acme Logistics" in text_of(at)


def test_new_company_form_creates_a_company(demo_services, demo_actor, open_page, text_of):
    holdings = company_id(demo_services, demo_actor, "northwind-holdings.com")
    at = open_page(PAGE)
    at.text_input(key="companies_new_domain").input("Northwind-Rail.com")
    at.text_input(key="companies_new_name").input("Northwind Rail")
    at.text_input(key="companies_new_industry").input("Logistics")
    at.number_input(key="companies_new_employees").set_value(120)
    at.selectbox(key="companies_new_parent").select(holdings)
    at.button(key="companies_new_submit").click().run()

    assert not at.exception
    assert "Created Northwind Rail (northwind-rail.com)." in text_of(at)
    created = find_company_by_domain(demo_services.uow(), actor=demo_actor, domain="northwind-rail.com")
    assert created is not None and created.parent_id == holdings and created.employee_count == 120


def test_duplicate_company_domain_is_refused_inline(demo_services, open_page):
    at = open_page(PAGE)
    at.text_input(key="companies_new_domain").input("northwind-holdings.com")
    at.button(key="companies_new_submit").click().run()

    assert any("already exists" in e.value for e in at.error)
