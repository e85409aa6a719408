"""Contacts: search and filters, a detail panel (company, hierarchy, tasks, drafts, history),
new contact, inline stage/owner edit, CSV import and export. Logic lives in core.crm."""

from __future__ import annotations

import hashlib
from typing import Literal

import pandas as pd
import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import CREATE, IMPORT, UPDATE, allowed
from core.crm import service as contacts_service
from core.crm.importer import FIELDS, ImportOptions, detect_mapping, import_contacts, read_csv_headers
from core.crm.models import LifecycleStage
from core.crm.schemas import ContactInput, ContactUpdate, ContactView
from core.errors import SalesAgentError
from core.services import Services
from ui import data
from ui.runtime import current_actor, start_rerun
from ui.widgets import (
    attempt,
    chain,
    contacts_frame,
    csv_download,
    current_page,
    ensure_navigation,
    filter_select,
    fmt_dt,
    history_frame,
    import_report,
    label,
    page_controls,
    reset,
    selected_row,
    show_error,
    show_flash,
    tasks_frame,
    to_first_page,
)

IGNORE = "(ignore)"
OPEN = "contact_open_id"
NEW_FORM_KEYS = ("contacts_new_email", "contacts_new_first", "contacts_new_last", "contacts_new_title",
                 "contacts_new_domain", "contacts_new_stage")

ensure_navigation()
services = start_rerun("Contacts")
actor = current_actor(services)
users = data.user_names(services, actor)


def _on_select() -> None:
    row = selected_row(st.session_state.get("contacts_table"))
    ids = st.session_state.get("contacts_page_ids", [])
    st.session_state[OPEN] = ids[row] if row is not None and row < len(ids) else None


def _create(services: Services, actor: Actor) -> None:
    s = st.session_state
    stage = s.get("contacts_new_stage")

    def create() -> ContactView:
        return contacts_service.create_contact(services.uow(), actor=actor, data=ContactInput(
            email=s.get("contacts_new_email", ""), first_name=s.get("contacts_new_first") or None,
            last_name=s.get("contacts_new_last") or None, title=s.get("contacts_new_title") or None,
            company_domain=s.get("contacts_new_domain") or None,
            lifecycle_stage=LifecycleStage(stage) if stage else None))

    created = attempt("contacts_new", create, areas=["contacts", "companies"], success=lambda c: (
        f"{c.email} already existed: merged the new details into that contact." if c.merged
        else f"Created {c.full_name or c.email}."))
    if created is not None:
        reset(*NEW_FORM_KEYS)
        s[OPEN] = created.id


def _update(services: Services, actor: Actor, contact_id: int) -> None:
    s = st.session_state
    attempt("contact_detail", lambda: contacts_service.update_contact(
        services.uow(), actor=actor, contact_id=contact_id, changes=ContactUpdate(
            lifecycle_stage=LifecycleStage(s[f"contact_stage_{contact_id}"]),
            owner_id=s.get(f"contact_owner_{contact_id}"))),
        areas=["contacts"], success=lambda c: f"Saved {c.full_name or c.email}.")


def edit_controls(c: ContactView) -> None:
    stages = [s.value for s in LifecycleStage]
    owners = list(users) if c.owner_id is None or c.owner_id in users else [c.owner_id, *users]
    e1, e2, e3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    e1.selectbox("Lifecycle stage", stages, index=stages.index(c.lifecycle_stage.value),
                 format_func=label, key=f"contact_stage_{c.id}")
    e2.selectbox("Owner", owners, index=owners.index(c.owner_id) if c.owner_id in owners else None,
                 format_func=lambda uid: users.get(uid, f"user #{uid}"), key=f"contact_owner_{c.id}")
    e3.button("Save", key="contact_save", on_click=_update, args=(services, actor, c.id))


def detail(contact_id: int) -> None:
    try:
        info = data.contact_detail(services, actor, contact_id)
    except SalesAgentError as exc:
        show_error(exc)
        return
    c = info.contact
    with st.container(border=True, key="contact_detail"):
        head, close = st.columns([6, 1])
        head.subheader(f"{c.full_name or c.email}")
        close.button("Close", key="contact_close", on_click=lambda: st.session_state.update({OPEN: None}))
        show_flash("contact_detail")
        if c.suppressed:
            st.warning("Suppressed — never emailed: " + ", ".join(label(r) for r in c.suppressed))
        left, mid, right = st.columns(3)
        left.markdown(f"**Email** {c.email}  \n**Title** {c.title or '—'}  \n**Phone** {c.phone or '—'}  \n"
                      f"**LinkedIn** {c.linkedin_url or '—'}")
        mid.markdown(f"**Time zone** {c.timezone or '—'}  \n**Language** {c.language or '—'}  \n"
                     f"**Country** {c.country or '—'}  \n**Lawful basis** {label(c.lawful_basis)}")
        right.markdown(f"**Enrichment** {c.enrichment_score}/100  \n**Source** {c.data_source or '—'}  \n"
                       f"**Created** {fmt_dt(c.created_at)}  \n**Updated** {fmt_dt(c.updated_at)}")

        if allowed(actor, "contacts", UPDATE):
            edit_controls(c)

        st.markdown("#### Company")
        if c.company is None:
            st.caption("No company (free-mail address or not known).")
        else:
            company = c.company
            st.markdown(f"**{company.name}** · {company.domain} · {company.industry or 'industry unknown'}"
                        f" · {company.size or 'size unknown'}")
            if info.ancestors:
                st.markdown("Hierarchy: " + chain([*reversed(info.ancestors), c.company]))
            if info.subsidiaries:
                st.markdown("Subsidiaries: " + ", ".join(s.name for s in info.subsidiaries))

        t_tasks, t_drafts, t_history = st.tabs([f"Tasks ({len(info.tasks)})", f"Drafts ({len(info.drafts)})",
                                                "History"])
        with t_tasks:
            if info.tasks:
                st.dataframe(tasks_frame(info.tasks, users, services.clock()).drop(columns=["id"]),
                             hide_index=True, key="contact_tasks")
            else:
                st.caption("No tasks for this contact.")
        with t_drafts:
            if info.drafts:
                st.dataframe(pd.DataFrame([{"subject": d.subject, "status": label(d.status),
                                            "updated": fmt_dt(d.updated_at)} for d in info.drafts]),
                             hide_index=True, key="contact_drafts")
            else:
                st.caption("No drafts for this contact.")
        with t_history:
            rows = data.history(services, actor, "contact", c.id)
            if rows:
                st.dataframe(history_frame(rows), hide_index=True, key="contact_history")
            else:
                st.caption("No recorded changes.")


def browse() -> None:
    companies = data.company_choices(services, actor)
    f1, f2, f3, f4 = st.columns([3, 2, 2, 2])
    search = f1.text_input("Search", key="contacts_search", placeholder="name, email or title",
                           on_change=to_first_page, args=("contacts_page",))
    with f2:
        stage = filter_select("Lifecycle stage", list(LifecycleStage), key="contacts_stage")
    with f3:
        company_id = filter_select("Company", list(companies), key="contacts_company",
                                   format_func=lambda cid: companies.get(cid, str(cid)))
    with f4:
        owner_id = filter_select("Owner", list(users), key="contacts_owner",
                                 format_func=lambda uid: users.get(uid, str(uid)))
    page = data.contacts_page(services, actor, search=search.strip(), stage=stage, company_id=company_id,
                              owner_id=owner_id, page=current_page("contacts_page"))
    frame = contacts_frame(page.items, users)
    st.session_state["contacts_page_ids"] = frame["id"].tolist()
    st.dataframe(frame, hide_index=True, key="contacts_table", on_select=_on_select,
                 selection_mode="single-row", column_config={
                     "id": None, "enrichment": st.column_config.ProgressColumn(
                         "Enrichment", min_value=0, max_value=100, format="%d")})
    page_controls(page.total, data.CONTACTS_PER_PAGE, key="contacts_page")
    csv_download(frame, "contacts.csv", key="contacts_csv", label="Export this page as CSV")
    if st.session_state.get(OPEN):
        detail(int(st.session_state[OPEN]))
    else:
        st.caption("Select a row to see the contact's company, tasks, drafts and history.")


def new_contact() -> None:
    show_flash("contacts_new")
    with st.form("contacts_new_form"):
        st.text_input("Email *", key="contacts_new_email")
        a, b = st.columns(2)
        a.text_input("First name", key="contacts_new_first")
        b.text_input("Last name", key="contacts_new_last")
        st.text_input("Job title", key="contacts_new_title")
        st.text_input("Company domain", key="contacts_new_domain",
                      help="Leave empty to use the email's domain (free-mail addresses get no company).")
        st.selectbox("Lifecycle stage", [s.value for s in LifecycleStage], format_func=label,
                     key="contacts_new_stage")
        st.form_submit_button("Create contact", key="contacts_new_submit", type="primary", on_click=_create,
                              args=(services, actor))
    st.caption("An address that already exists is merged: only its empty fields are filled.")


def import_csv() -> None:
    upload = st.file_uploader("CSV export (HubSpot, Apollo, Sales Navigator, Outlook…)", type=["csv"],
                              key="contacts_import_file")
    if upload is None:
        if "contacts_import_report" in st.session_state:
            import_report(st.session_state["contacts_import_report"], key="contacts_import")
        return
    raw = upload.getvalue()
    try:
        headers = read_csv_headers(raw)
    except SalesAgentError as exc:
        show_error(exc)
        return
    detected = detect_mapping(headers)
    st.markdown("**Column mapping** — change a field where the guess is wrong.")
    editor_key = "contacts_import_mapping_" + hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:10]
    edited = st.data_editor(
        pd.DataFrame({"CSV column": headers, "field": [detected.get(h) or IGNORE for h in headers]}),
        key=editor_key, hide_index=True, disabled=["CSV column"], column_config={
            "field": st.column_config.SelectboxColumn("Field", options=[*FIELDS, IGNORE], required=True)})
    mapping = {str(r["CSV column"]): (None if r["field"] in (IGNORE, None) else str(r["field"]))
               for r in edited.to_dict("records")}
    policies: dict[Literal["update", "skip"], str] = {"update": "Update the contact", "skip": "Skip the row"}
    policy = st.radio("When an email already exists", list(policies), key="contacts_import_policy",
                      horizontal=True, format_func=policies.__getitem__)
    if st.button("Import", key="contacts_import_run", type="primary"):
        # Runs in the page body, not a callback, so the progress bar can render in place.
        bar = st.progress(0.0, text="Importing…")

        def progress(done: int, total: int) -> None:
            share = min(done / total, 1.0) if total else 1.0
            bar.progress(share, text=f"Importing… {done:,} of {total:,} rows")

        try:
            report = import_contacts(services.uow(), actor=actor, data=raw, on_progress=progress,
                                     options=ImportOptions(on_duplicate=policy, mapping=mapping))
        except SalesAgentError as exc:
            bar.empty()
            show_error(exc)
            return
        bar.progress(1.0, text="Import finished")
        data.invalidate("contacts", "companies")
        st.session_state["contacts_import_report"] = report
    if "contacts_import_report" in st.session_state:
        import_report(st.session_state["contacts_import_report"], key="contacts_import")


st.title("Contacts")
tab_browse, tab_new, tab_import = st.tabs(["Browse", "New contact", "Import CSV"], key="contacts_tabs")
with tab_browse:
    browse()
with tab_new:
    if allowed(actor, "contacts", CREATE):
        new_contact()
    else:
        st.caption("Your role may not create contacts.")
with tab_import:
    if allowed(actor, "contacts", IMPORT):
        import_csv()
    else:
        st.caption("Your role may not import contacts.")
