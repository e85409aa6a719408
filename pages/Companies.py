"""Companies: search and industry filter, detail with the hierarchy (parent chain, subsidiaries tree),
contacts at the company, set parent (cycles refused by core), create form, CSV export."""

from __future__ import annotations

import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import CREATE, UPDATE, allowed
from core.crm import companies as companies_service
from core.crm.schemas import CompanyInput, CompanyView
from core.errors import SalesAgentError
from core.services import Services
from ui import data
from ui.runtime import current_actor, start_rerun
from ui.widgets import (
    attempt,
    chain,
    companies_frame,
    contacts_frame,
    csv_download,
    current_page,
    ensure_navigation,
    filter_select,
    history_frame,
    page_controls,
    reset,
    selected_row,
    show_error,
    show_flash,
    to_first_page,
)

OPEN = "company_open_id"
SIZES = ["", "1-50", "51-200", "201-1000", "1001-5000", "5001+"]
NEW_FORM_KEYS = ("companies_new_domain", "companies_new_name", "companies_new_industry", "companies_new_size",
                 "companies_new_employees", "companies_new_parent")

ensure_navigation()
services = start_rerun("Companies")
actor = current_actor(services)
names = data.company_choices(services, actor)


def _on_select() -> None:
    row = selected_row(st.session_state.get("companies_table"))
    ids = st.session_state.get("companies_page_ids", [])
    st.session_state[OPEN] = ids[row] if row is not None and row < len(ids) else None


def _create(services: Services, actor: Actor) -> None:
    s = st.session_state

    def create() -> CompanyView:
        return companies_service.create_company(services.uow(), actor=actor, data=CompanyInput(
            domain=s.get("companies_new_domain", ""), name=s.get("companies_new_name") or None,
            industry=s.get("companies_new_industry") or None, size=s.get("companies_new_size") or None,
            employee_count=s.get("companies_new_employees") or None, parent_id=s.get("companies_new_parent")))

    created = attempt("companies_new", create, areas=["companies"],
                      success=lambda c: f"Created {c.name} ({c.domain}).")
    if created is not None:
        reset(*NEW_FORM_KEYS)
        s[OPEN] = created.id


def _set_parent(services: Services, actor: Actor, company_id: int) -> None:
    parent_id = st.session_state.get(f"company_parent_{company_id}")
    attempt("company_detail", lambda: companies_service.set_parent_company(
        services.uow(), actor=actor, company_id=company_id, parent_id=parent_id), areas=["companies"],
        success=lambda c: f"{c.name} now sits under {names.get(parent_id, '?')}." if parent_id
        else f"{c.name} is now a top-level company.")


def detail(company_id: int) -> None:
    try:
        info = data.company_detail(services, actor, company_id)
    except SalesAgentError as exc:
        show_error(exc)
        return
    c = info.company
    with st.container(border=True, key="company_detail"):
        head, close = st.columns([6, 1])
        head.subheader(c.name)
        close.button("Close", key="company_close", on_click=lambda: st.session_state.update({OPEN: None}))
        show_flash("company_detail")
        st.markdown(f"{c.domain} · {c.industry or 'industry unknown'} · {c.size or 'size unknown'}"
                    f" · {f'{c.employee_count:,} employees' if c.employee_count else 'headcount unknown'}"
                    f" · score {c.score}")

        st.markdown("#### Hierarchy")
        if info.ancestors:
            st.markdown("Parent chain: " + chain([*reversed(info.ancestors), c]))
        else:
            st.caption("Top-level company.")
        if info.subtree:
            lines = ["  " * level + f"- {sub.name} ({sub.domain})"
                     for sub, level in _tree(c.id, info.subtree)]
            st.markdown("Subsidiaries:\n\n" + "\n".join(lines))
        else:
            st.caption("No subsidiaries.")

        if allowed(actor, "companies", UPDATE):
            parent_control(c)

        tab_contacts, tab_history = st.tabs([f"Contacts ({info.contacts.total})", "History"])
        with tab_contacts:
            people = contacts_frame(info.contacts.items, data.user_names(services, actor))
            st.dataframe(people, hide_index=True, key="company_contacts", column_config={"id": None})
            csv_download(people, f"{c.domain}-contacts.csv", key="company_contacts_csv")
        with tab_history:
            rows = data.history(services, actor, "company", c.id)
            if rows:
                st.dataframe(history_frame(rows), hide_index=True, key="company_history")
            else:
                st.caption("No recorded changes.")


def parent_control(c: CompanyView) -> None:
    parents: list[int | None] = [None, *[i for i in names if i != c.id]]
    p1, p2 = st.columns([4, 1], vertical_alignment="bottom")
    p1.selectbox("Parent company", parents, key=f"company_parent_{c.id}",
                 index=parents.index(c.parent_id) if c.parent_id in parents else 0,
                 format_func=lambda i: "(none — top level)" if i is None else names.get(i, str(i)))
    p2.button("Set parent", key="company_set_parent", on_click=_set_parent, args=(services, actor, c.id))


def _tree(root: int, subtree: list[CompanyView]) -> list[tuple[CompanyView, int]]:
    """The subtree in display order (each company followed by its own children) with its depth."""
    children: dict[int | None, list[CompanyView]] = {}
    for sub in subtree:
        children.setdefault(sub.parent_id, []).append(sub)
    ordered: list[tuple[CompanyView, int]] = []

    def walk(parent: int, level: int) -> None:
        for child in children.get(parent, []):
            ordered.append((child, level))
            walk(child.id, level + 1)

    walk(root, 0)
    return ordered


def browse() -> None:
    f1, f2 = st.columns([3, 2])
    search = f1.text_input("Search", key="companies_search", placeholder="name or domain",
                           on_change=to_first_page, args=("companies_page",))
    with f2:
        industry = filter_select("Industry", data.industries(services, actor), key="companies_industry",
                                 format_func=str)
    page = data.companies_page(services, actor, search=search.strip(), industry=industry,
                               page=current_page("companies_page"))
    frame = companies_frame(page.items, names)
    st.session_state["companies_page_ids"] = frame["id"].tolist()
    st.dataframe(frame, hide_index=True, key="companies_table", on_select=_on_select,
                 selection_mode="single-row", column_config={"id": None})
    page_controls(page.total, data.COMPANIES_PER_PAGE, key="companies_page")
    csv_download(frame, "companies.csv", key="companies_csv", label="Export this page as CSV")
    if st.session_state.get(OPEN):
        detail(int(st.session_state[OPEN]))
    else:
        st.caption("Select a row to see the company's hierarchy and contacts.")


def new_company() -> None:
    show_flash("companies_new")
    with st.form("companies_new_form"):
        st.text_input("Domain *", key="companies_new_domain", placeholder="example.com")
        st.text_input("Name", key="companies_new_name", help="Defaults to one made from the domain.")
        a, b, c = st.columns(3)
        a.text_input("Industry", key="companies_new_industry")
        b.selectbox("Size", SIZES, key="companies_new_size", format_func=lambda v: v or "(unknown)")
        c.number_input("Employees", min_value=0, step=1, value=None, key="companies_new_employees")
        st.selectbox("Parent company", [None, *names], key="companies_new_parent",
                     format_func=lambda i: "(none — top level)" if i is None else names.get(i, str(i)))
        st.form_submit_button("Create company", key="companies_new_submit", type="primary", on_click=_create,
                              args=(services, actor))


st.title("Companies")
tab_browse, tab_new = st.tabs(["Browse", "New company"], key="companies_tabs")
with tab_browse:
    browse()
with tab_new:
    if allowed(actor, "companies", CREATE):
        new_company()
    else:
        st.caption("Your role may not create companies.")
