"""Dashboard entry point: `streamlit run Home.py`. Navigation plus the overview page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import CREATE, allowed
from core.demo import load_demo_data
from core.errors import SalesAgentError
from core.services import Services
from ui import data
from ui import notifications as notifications_ui
from ui.integrations import latest_sync_alert
from ui.runtime import ACTOR_KEY, current_actor, get_services, start_rerun
from ui.widgets import csv_download, fmt_dt, highlight_overdue, label, set_flash, show_flash, tasks_frame

st.set_page_config(page_title="Sales Agent", layout="wide")


def _load_demo(services: Services) -> None:
    try:
        counts = load_demo_data(services, only_if_empty=True)
    except SalesAgentError as exc:
        set_flash("home", "error", exc.message)
        return
    # The demo user appears too, so the cached actor lookup in ui.runtime must go as well.
    st.cache_data.clear()
    set_flash("home", "success", f"Demo data loaded: {counts['contacts']} contacts, "
                                 f"{counts['companies']} companies, {counts['campaigns']} campaigns.")


def _connectors_panel(services: Services) -> None:
    rows = [{"concern": label(name), "active": value,
             "note": "embedded default" if "embedded" in value.lower() else ""}
            for name, value in services.active_connectors().items()]
    st.dataframe(pd.DataFrame(rows, columns=["concern", "active", "note"]), hide_index=True,
                 key="home_connectors")
    st.caption("Embedded defaults need no configuration; set DATABASE_URL, REDIS_URL, … to switch.")


def _worker_panel(services: Services) -> None:
    status = data.workers(services)
    if status.running:
        st.success(status.summary, icon=":material/check_circle:")
    else:
        st.warning(f"{status.summary}. Sending, sequences and sync wait until a worker runs "
                   "(`huey_consumer jobs.main.huey`).", icon=":material/warning:")


def overview() -> None:
    services = start_rerun("Home")
    actor = current_actor(services)
    st.title("Sales Agent")
    show_flash("home")
    if alert := latest_sync_alert(services):
        st.error(alert, icon=":material/sync_problem:")
    if unread := notifications_ui.unread_count(services, actor):
        st.info(f"You have {unread} unread notification{'s' if unread != 1 else ''}.",
                icon=":material/notifications:")
        notifications_ui.page_link("Open notifications")
    counts = data.overview_counts(services, actor)

    if counts.contacts == 0:
        st.info("The database is empty. Load the demo data set — a small B2B team's CRM with companies, "
                "contacts, campaigns, templates and tasks — to look around.", icon=":material/info:")
        if allowed(actor, "users", CREATE):  # the demo set adds users, so only admins may load it
            st.button("Load demo data", key="home_load_demo", type="primary", on_click=_load_demo,
                      args=(services,))
        else:
            st.caption("Ask an administrator to load the demo data or import contacts.")
    else:
        cols = st.columns(5)
        cols[0].metric("Contacts", f"{counts.contacts:,}", border=True)
        cols[1].metric("Companies", f"{counts.companies:,}", border=True)
        cols[2].metric("Active campaigns", counts.active_campaigns, border=True)
        cols[3].metric("Open tasks", counts.open_tasks, border=True)
        cols[4].metric("Drafts awaiting approval", counts.drafts_awaiting_approval, border=True)

        left, right = st.columns(2)
        with left:
            st.subheader("Contacts by lifecycle stage")
            stages = data.contacts_by_stage(services, actor)
            funnel = pd.DataFrame({"stage": [label(s) for s in stages], "contacts": list(stages.values())})
            fig = px.funnel(funnel, x="contacts", y="stage")
            fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=340)
            st.plotly_chart(fig, key="home_funnel")
        with right:
            st.subheader("Campaign performance")
            rows = [{"campaign": c.name, "metric": m, "count": getattr(c.stats, m)}
                    for c in data.campaigns(services, actor) if c.stats.sent
                    for m in ("sent", "opened", "clicked", "replied")]
            if rows:
                fig = px.bar(pd.DataFrame(rows), x="campaign", y="count", color="metric", barmode="group")
                fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=340, xaxis_title="",
                                  legend={"title": "", "orientation": "h", "y": -0.15})
                st.plotly_chart(fig, key="home_campaigns")
            else:
                st.caption("No campaign has sent anything yet.")

        st.subheader("My tasks due in the next 7 days")
        mine = data.my_tasks_due(services, actor)
        if mine:
            frame = tasks_frame(mine, data.user_names(services, actor), services.clock())
            st.dataframe(highlight_overdue(frame.drop(columns=["id", "assignee"])), hide_index=True,
                         key="home_tasks",
                         column_config={"overdue": st.column_config.CheckboxColumn("Overdue")})
            csv_download(frame, "my-tasks-due.csv", key="home_tasks_csv")
        else:
            st.caption("Nothing due — well done.")

    left, right = st.columns(2)
    with left:
        st.subheader("Worker")
        _worker_panel(services)
    with right:
        st.subheader("Active connectors")
        _connectors_panel(services)
    st.caption(f"Signed in as {actor.name or actor.email} · {fmt_dt(services.clock())} UTC")


# (file, title, icon) per section, in menu order.
SECTIONS: dict[str, list[tuple[str, str, str]]] = {
    "Pipeline": [
        ("Contacts.py", "Contacts", "contacts"),
        ("Companies.py", "Companies", "domain"),
        ("Campaigns.py", "Campaigns", "campaign"),
        ("Tasks.py", "Tasks", "task_alt"),
        ("Notifications.py", "Notifications", "notifications"),
    ],
    "Outreach": [
        ("Queue.py", "Queue", "format_list_numbered"),
        ("Proposal_Approval.py", "Proposal approval", "rate_review"),
        ("Drafting.py", "Drafting", "edit_note"),
    ],
    "Content": [
        ("Templates.py", "Templates", "description"),
        ("Voice_Training.py", "Voice training", "record_voice_over"),
        ("Preview.py", "Preview", "preview"),
    ],
    "Delivery": [
        ("Sending.py", "Sending", "send"),
        ("Outbox.py", "Outbox", "outbox"),
    ],
    "Insights": [
        ("Email_Performance.py", "Email performance", "insights"),
        ("Queue_Metrics.py", "Queue metrics", "monitoring"),
    ],
    # These pages tell a user without the rights that they are not for them.
    "Settings": [
        ("Integrations.py", "Integrations", "hub"),
        ("Admin.py", "Admin", "admin_panel_settings"),
    ],
}


# Pages only some roles may use: hidden from the menu of everyone else (core refuses them anyway).
RESTRICTED: dict[str, tuple[str, str]] = {
    "Admin.py": ("users", "update"),
    "Integrations.py": ("integrations", "read"),
    "Notifications.py": ("sending", "read"),
}


def _visible(name: str) -> bool:
    needed = RESTRICTED.get(name)
    if needed is None:
        return True
    actor = st.session_state.get(ACTOR_KEY)
    return isinstance(actor, Actor) and allowed(actor, *needed)


def _title(name: str, title: str) -> str:
    """The menu title; Notifications carries the signed-in user's unread count, e.g. "Notifications (3)"."""
    actor = st.session_state.get(ACTOR_KEY)
    if name != "Notifications.py" or not isinstance(actor, Actor):
        return title
    return notifications_ui.menu_title(notifications_ui.unread_count(get_services(), actor))


def _navigation() -> dict[str, list[Any]]:
    pages_dir = Path(__file__).resolve().parent / "pages"
    menu: dict[str, list[Any]] = {
        "Overview": [st.Page(overview, title="Home", icon=":material/home:", default=True)]}
    for section, entries in SECTIONS.items():
        menu[section] = [st.Page(f"pages/{name}", title=_title(name, title), icon=f":material/{icon}:")
                         for name, title, icon in entries if (pages_dir / name).exists() and _visible(name)]
    # A page file not sorted into a section yet is still reachable (st.navigation ignores pages/ otherwise).
    listed = {name for entries in SECTIONS.values() for name, _, _ in entries}
    menu["More"] = [st.Page(f"pages/{path.name}") for path in sorted(pages_dir.glob("*.py"))
                    if path.name not in listed and not path.name.startswith("_") and _visible(path.name)]
    return {section: pages for section, pages in menu.items() if pages}


st.navigation(_navigation()).run()
