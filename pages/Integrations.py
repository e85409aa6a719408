"""Integrations: which CRM is connected, test it, sync settings and mapping, sync now with progress, job
history with per-record errors, and conflicts to resolve. Logic lives in core.hubspot."""

from __future__ import annotations

import streamlit as st

from core.auth.permissions import READ, UPDATE, allowed
from core.hubspot.models import ConflictPolicy, Direction, ObjectType
from ui import integrations as view
from ui.runtime import current_actor, start_rerun
from ui.widgets import csv_download, ensure_navigation, fmt_dt, label, show_flash

ensure_navigation()
services = start_rerun("Integrations")
actor = current_actor(services)
if not allowed(actor, view.RESOURCE, READ):
    st.error("The Integrations page is for managers and administrators.")
    st.stop()
can_change = allowed(actor, view.RESOURCE, UPDATE)
crm = view.crm_label(services)

st.title("Integrations")
alert = view.latest_sync_alert(services, actor)
if alert:
    st.error(alert)
show_flash(view.FLASH)

status_tab, mapping_tab, jobs_tab, conflicts_tab = st.tabs(["Connection", "Mapping", "Sync jobs", "Conflicts"])

with status_tab:
    if crm is None:
        st.warning("CRM: not connected. Set HUBSPOT_ACCESS_TOKEN (and HUBSPOT_CLIENT_SECRET for webhooks).")
    else:
        st.success(f"CRM: {crm} connected")
    health = view.health(services, actor)
    cols = st.columns(3)
    cols[0].metric("Last successful sync", fmt_dt(health.last_success_at) or "never")
    cols[1].metric("Success rate (last 50)", "—" if health.success_rate is None else f"{health.success_rate:.0%}")
    cols[2].metric("Open conflicts", health.open_conflicts)
    buttons = st.columns(3)
    buttons[0].button("Test connection", key="integrations_test", disabled=crm is None,
                      on_click=view.do_test_connection, args=(services, actor))
    if can_change:
        buttons[1].button("Sync now", key="integrations_sync_now", type="primary", disabled=crm is None,
                          on_click=view.do_sync_now, args=(services, actor, False))
        buttons[2].button("Full import", key="integrations_full_import", disabled=crm is None,
                          on_click=view.do_sync_now, args=(services, actor, True))

    @st.fragment(run_every=2)
    def sync_progress() -> None:
        job = view.running_job(services, actor)
        if job is None:
            st.caption("No sync is running.")
            return
        done, text = view.progress_of(job)
        st.progress(done, text=text)

    sync_progress()

with mapping_tab:
    object_type = ObjectType(st.selectbox("Object", [t.value for t in ObjectType], format_func=label,
                                          key="integrations_object"))
    setting = next(s for s in view.sync_settings(services, actor) if s.object_type is object_type)
    key = f"integrations_{object_type.value}"
    with st.form(f"{key}_form"):
        direction = st.selectbox("Direction", [d.value for d in Direction], format_func=label, key=f"{key}_direction",
                                 index=list(Direction).index(setting.direction))
        frequency = st.number_input("Poll every (minutes)", min_value=1, max_value=24 * 60, key=f"{key}_frequency",
                                    value=setting.frequency_minutes)
        policy = st.selectbox("When both sides changed a field", [p.value for p in ConflictPolicy], format_func=label,
                              key=f"{key}_policy", index=list(ConflictPolicy).index(setting.conflict_policy))
        edited = st.data_editor(
            view.mapping_frame(setting), key=f"{key}_mapping", num_rows="dynamic", hide_index=True,
            disabled=not can_change,
            column_config={
                "ours": st.column_config.SelectboxColumn("Our field", options=view.field_choices(object_type)),
                "theirs": st.column_config.TextColumn("HubSpot property"),
                "transform": st.column_config.SelectboxColumn("Transform", options=view.transform_choices()),
                "direction": st.column_config.SelectboxColumn("Direction", options=[d.value for d in Direction]),
            })
        if st.form_submit_button("Save settings", type="primary", disabled=not can_change):
            view.save_settings(services, actor, object_type, direction=str(direction), frequency=int(frequency),
                               policy=str(policy), edited=edited)
            st.rerun()

with jobs_tab:
    history = view.jobs_frame(view.jobs(services, actor))
    st.dataframe(history, hide_index=True, key="integrations_jobs_table")
    csv_download(history, "hubspot-sync-jobs.csv", key="integrations_jobs_csv")
    job_ids = [None, *history["id"].tolist()]
    chosen = st.selectbox("Per-record errors of job", job_ids, key="integrations_errors_job",
                          format_func=lambda j: "All jobs" if j is None else f"Job {j}")
    errors = view.errors_frame(view.sync_errors(services, actor, chosen))
    if errors.empty:
        st.caption("No record errors.")
    else:
        st.dataframe(errors, hide_index=True, key="integrations_errors_table")
        csv_download(errors, "hubspot-sync-errors.csv", key="integrations_errors_csv")

with conflicts_tab:
    open_conflicts = view.conflicts(services, actor)
    if not open_conflicts:
        st.caption("No open conflicts.")
    else:
        st.dataframe(view.conflicts_frame(open_conflicts), hide_index=True, key="integrations_conflicts_table")
        by_id = {c.id: c for c in open_conflicts}
        picked = st.selectbox("Conflict", list(by_id), key="integrations_conflict",
                              format_func=lambda c: f"#{c} {by_id[c].field}: ours {by_id[c].our_value!r} / "
                                                    f"HubSpot's {by_id[c].their_value!r}")
        if can_change and picked is not None:
            resolve_cols = st.columns(2)
            resolve_cols[0].button("Keep ours", key="integrations_keep_ours", on_click=view.do_resolve,
                           args=(services, actor, picked, False))
            resolve_cols[1].button("Take HubSpot's", key="integrations_take_theirs", on_click=view.do_resolve,
                           args=(services, actor, picked, True))
