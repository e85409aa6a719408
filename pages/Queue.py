"""Contact queue: counts per status, filters, bulk add (contact search, saved filter, CSV), bulk research and
proposals with progress read from the job row, failed entries with their reason and a retry button.
Logic lives in core.queue; reads go through ui.queue."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import CREATE, UPDATE, allowed
from core.queue import batches, service
from core.queue.models import QueuePriority, QueueStatus
from core.queue.schemas import BulkInput, ContactFilter, JobView, QueueQuery, QueueSort
from core.services import Services
from jobs.queue import enqueue
from ui import data
from ui import queue as view
from ui.runtime import current_actor, start_rerun
from ui.widgets import (
    current_page,
    ensure_navigation,
    page_controls,
    selected_row,
    set_flash,
    show_flash,
    to_first_page,
)

ALL = "All"
MINE = -1  # owner filter choice "me"

ensure_navigation()
services = start_rerun("Queue")
actor = current_actor(services)
users = data.user_names(services, actor)
can_write = allowed(actor, "queue", UPDATE)


# Writes (callbacks) -----------------------------------------------------------------------------------

def _start(services: Services, actor: Actor, kind: str, entry_ids: list[int]) -> None:
    def run() -> JobView:
        start = batches.start_research if kind == "research" else batches.start_proposals
        return enqueue(start(services.uow(), actor=actor, entry_ids=entry_ids))

    view.attempt("queue_bulk", run, success=lambda j: f"{'Research' if kind == 'research' else 'Proposals'} "
                                                      f"started for {j.total} entries.")


def _add(services: Services, actor: Actor, data_in: BulkInput) -> None:
    view.attempt("queue_add", lambda: service.add_bulk(services.uow(), actor=actor, data=data_in),
                 success=lambda r: f"Added {len(r.added)} to the queue"
                                   + (f"; {len(r.already_queued)} already queued" if r.already_queued else "")
                                   + (f"; not found: {', '.join(r.not_found[:5])}" if r.not_found else "") + ".")


def _add_search(services: Services, actor: Actor) -> None:
    s = st.session_state
    picked = s.get("queue_add_picked") or list(view.matching_contacts(services, actor, _search_filter()))
    _add(services, actor, BulkInput(contact_ids=picked, priority=QueuePriority(s["queue_add_priority"])))


def _save_filter(services: Services, actor: Actor) -> None:
    name = st.session_state.get("queue_filter_name", "")
    view.attempt("queue_add", lambda: service.save_filter(services.uow(), actor=actor, name=name,
                                                          filters=_search_filter()),
                 success=lambda f: f"Saved the filter “{f.name}”.")


def _add_csv(services: Services, actor: Actor) -> None:
    upload = st.session_state.get("queue_add_csv")
    if upload is None:
        set_flash("queue_add", "error", "Choose a CSV file with an email column first.")
        return
    frame = pd.read_csv(io.BytesIO(upload.getvalue()), dtype=str)
    column = next((c for c in frame.columns if c.strip().lower() in ("email", "e-mail", "email address")), None)
    if column is None:
        set_flash("queue_add", "error", "The CSV needs a column named email.")
        return
    _add(services, actor, BulkInput(emails=frame[column].dropna().tolist()))


def _retry(services: Services, actor: Actor, entry_id: int) -> None:
    view.attempt("queue_failed", lambda: enqueue(batches.retry_entry(services.uow(), actor=actor, entry_id=entry_id)),
                 success="Retry started.")


def _search_filter() -> ContactFilter:
    s = st.session_state
    return ContactFilter(search=s.get("queue_add_search") or None, limit=int(s.get("queue_add_limit", 25)))


# Sections ---------------------------------------------------------------------------------------------

def counts(owner_id: int | None) -> None:
    found = view.status_counts(services, actor, owner_id)
    cols = st.columns(len(found))
    for col, (status, n) in zip(cols, found.items(), strict=True):
        col.metric(view.status_label(status), f"{n:,}")


@st.fragment(run_every=1.0)
def progress() -> None:
    """The latest batch, read from its job row: a reload shows it where it stands."""
    job = view.latest_job(services, actor)
    if job is None:
        return
    what = "Research" if job.kind.value == "research" else "Proposals"
    text = f"{what} batch #{job.id}: {job.done + job.failed} of {job.total} · {job.failed} failed · {job.status.value}"
    st.progress(job.fraction, text=text)
    if job.finished and st.session_state.get("queue_job_seen") != (job.id, job.status.value):
        st.session_state["queue_job_seen"] = (job.id, job.status.value)
        view.invalidate()
        st.rerun()


def filters() -> QueueQuery:
    with st.form("queue_filters_form", border=False):
        a, b, c, d, e = st.columns(5)
        status = a.selectbox("Status", [ALL, *[s.value for s in QueueStatus]], key="queue_f_status",
                             format_func=lambda v: v if v == ALL else view.status_label(v))
        priority = b.selectbox("Priority", [ALL, *[p.name for p in QueuePriority]], key="queue_f_priority")
        owners = [ALL, MINE, *users]
        owner = c.selectbox("Owner", owners, key="queue_f_owner", index=1,
                            format_func=lambda u: {ALL: ALL, MINE: "Me"}.get(u, users.get(u, str(u))))
        campaigns = {cp.id: cp.name for cp in data.campaigns(services, actor)}
        campaign = d.selectbox("Campaign", [ALL, *campaigns], key="queue_f_campaign",
                               format_func=lambda c: campaigns.get(c, ALL))
        company = e.text_input("Company", key="queue_f_company", placeholder="name or domain")
        st.form_submit_button("Apply filters", key="queue_f_apply", on_click=to_first_page, args=("queue_page",))
    owner_id = actor.user_id if owner == MINE else (None if owner == ALL else owner)
    return QueueQuery(status=None if status == ALL else QueueStatus(status),
                      priority=None if priority == ALL else QueuePriority[priority], owner_id=owner_id,
                      campaign_id=None if campaign == ALL else campaign, company=company or None,
                      sort=QueueSort.priority, limit=view.PER_PAGE,
                      offset=(current_page("queue_page") - 1) * view.PER_PAGE)


def table(query: QueueQuery) -> list[int]:
    """The page of entries; returns the ids the bulk buttons act on (the selected rows, else the page)."""
    page = view.entries_page(services, actor, query)
    frame = view.entries_frame(page.items, users)
    event = st.dataframe(frame, hide_index=True, key="queue_table", selection_mode="multi-row", on_select="rerun",
                         column_config={"id": None})
    page_controls(page.total, view.PER_PAGE, key="queue_page")
    st.download_button("Download CSV", data=view.entries_csv(services, actor, query), file_name="queue.csv",
                       mime="text/csv", key="queue_csv", icon=":material/download:", on_click="ignore",
                       disabled=frame.empty)
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if selected_row(event) is not None:
        return [page.items[i].id for i in rows if i < len(page.items)]
    return [e.id for e in page.items]


def bulk(shown: list[int]) -> None:
    show_flash("queue_bulk")
    entries = {e.id: e for e in view.entries_page(services, actor, _current_query).items}
    to_research = [i for i in shown if entries.get(i) and entries[i].status.value in ("pending", "failed")]
    to_propose = [i for i in shown if entries.get(i) and entries[i].status.value == "ready"]
    st.caption("Buttons act on the selected rows, or on every row of this page when none is selected.")
    a, b = st.columns(2)
    a.button(f"Research {len(to_research)} entries", key="queue_research", type="primary",
             disabled=not to_research or not can_write, on_click=_start,
             args=(services, actor, "research", to_research))
    b.button(f"Draft proposals for {len(to_propose)} entries", key="queue_propose", type="primary",
             disabled=not to_propose or not can_write, on_click=_start,
             args=(services, actor, "propose", to_propose))
    view.page_link("pages/Proposal_Approval.py", "Review proposals →", ":material/rate_review:")


def failed(owner_id: int | None) -> None:
    show_flash("queue_failed")
    page = view.entries_page(services, actor, QueueQuery(status=QueueStatus.failed, owner_id=owner_id, limit=20))
    if not page.items:
        return
    with st.expander(f"Failed entries ({page.total})", expanded=True):
        reasons = {e.id: f"{e.contact_name}: {e.failure_reason or 'no reason recorded'}" for e in page.items}
        st.dataframe(pd.DataFrame({"failed entry": list(reasons.values())}), hide_index=True, key="queue_failed_table")
        with st.form("queue_retry_form", border=False):
            st.selectbox("Entry to retry", list(reasons), key="queue_retry_pick",
                         format_func=lambda i: reasons.get(i, str(i)))
            st.form_submit_button("Retry", key="queue_retry", disabled=not can_write,
                                  on_click=lambda: _retry(services, actor, st.session_state["queue_retry_pick"]))


def add() -> None:
    show_flash("queue_add")
    search_tab, saved_tab, csv_tab = st.tabs(["From a contact search", "From a saved filter", "From a CSV"])
    with search_tab, st.form("queue_add_form"):
        a, b, c = st.columns([3, 1, 1])
        a.text_input("Search contacts", key="queue_add_search", placeholder="name, email, title or company")
        b.number_input("At most", min_value=1, max_value=500, value=25, key="queue_add_limit")
        c.selectbox("Priority", [p.value for p in QueuePriority], key="queue_add_priority",
                    format_func=lambda v: QueuePriority(v).name)
        found = view.matching_contacts(services, actor, _search_filter())
        st.multiselect(f"Pick from {len(found)} matching (none picked = add all)", list(found),
                       key="queue_add_picked", format_func=lambda cid: found.get(cid, str(cid)))
        x, y, z = st.columns([1, 1, 2])
        x.form_submit_button("Search", key="queue_add_refresh")
        y.form_submit_button("Add to queue", key="queue_add_submit", type="primary", on_click=_add_search,
                             args=(services, actor))
        z.text_input("Save this search as", key="queue_filter_name", placeholder="filter name")
        z.form_submit_button("Save filter", key="queue_filter_save", on_click=_save_filter, args=(services, actor))
    with saved_tab:
        saved = view.saved_filters(services, actor)
        if not saved:
            st.caption("No saved filter yet: save a contact search first.")
        else:
            with st.form("queue_saved_form"):
                st.selectbox("Saved filter", list(saved), key="queue_saved_pick",
                             format_func=lambda fid: saved.get(fid, str(fid)))
                st.form_submit_button("Add its contacts", key="queue_saved_submit", type="primary",
                                      on_click=lambda: _add(services, actor, BulkInput(
                                          saved_filter_id=st.session_state["queue_saved_pick"])))
    with csv_tab, st.form("queue_csv_form"):
        st.file_uploader("CSV with an email column", type=["csv"], key="queue_add_csv")
        st.form_submit_button("Add from CSV", key="queue_csv_submit", type="primary", on_click=_add_csv,
                              args=(services, actor))


st.title("Contact queue")
progress()
_current_query = filters()
counts(_current_query.owner_id)
failed(_current_query.owner_id)
_shown = table(_current_query)
bulk(_shown)
if allowed(actor, "queue", CREATE):
    st.subheader("Add contacts")
    add()
