"""Integrations page helpers: HubSpot connection, sync settings, jobs, errors and conflicts (cached reads);
writes go through core. ``latest_sync_alert`` is the failed-sync banner Home shows."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import READ, allowed
from core.hubspot import service as hubspot
from core.hubspot.mapping import SYNCABLE_FIELDS, TRANSFORMS, FieldMap
from core.hubspot.models import ConflictPolicy, Direction, JobStatus, ObjectType
from core.hubspot.schemas import ConflictView, SyncErrorView, SyncHealth, SyncJobView, SyncSettingInput, SyncSettingView
from core.hubspot.sync import test_connection
from core.services import Services
from ui.caching import HASH_FUNCS
from ui.widgets import attempt, fmt_dt, set_flash

FLASH = "integrations"
RESOURCE = hubspot.RESOURCE
JOB_COLUMNS = ["id", "kind", "object", "status", "started", "completed", "records", "errors", "triggered by",
               "message"]
MAPPING_COLUMNS = ["ours", "theirs", "transform", "direction"]


@st.cache_data(ttl=10, show_spinner=False, hash_funcs=HASH_FUNCS)
def jobs(_services: Services, actor: Actor, limit: int = 100) -> list[SyncJobView]:
    return hubspot.list_jobs(_services.uow(), actor=actor, limit=limit)


@st.cache_data(ttl=10, show_spinner=False, hash_funcs=HASH_FUNCS)
def health(_services: Services, actor: Actor) -> SyncHealth:
    return hubspot.sync_health(_services.uow(), actor=actor)


@st.cache_data(ttl=30, show_spinner=False, hash_funcs=HASH_FUNCS)
def sync_settings(_services: Services, actor: Actor) -> list[SyncSettingView]:
    return hubspot.get_sync_settings(_services.uow(), actor=actor)


@st.cache_data(ttl=10, show_spinner=False, hash_funcs=HASH_FUNCS)
def sync_errors(_services: Services, actor: Actor, job_id: int | None) -> list[SyncErrorView]:
    return hubspot.list_sync_errors(_services.uow(), actor=actor, job_id=job_id)


@st.cache_data(ttl=10, show_spinner=False, hash_funcs=HASH_FUNCS)
def conflicts(_services: Services, actor: Actor) -> list[ConflictView]:
    return hubspot.list_conflicts(_services.uow(), actor=actor)


def refresh() -> None:
    for cached in (jobs, health, sync_settings, sync_errors, conflicts):
        cached.clear()


# Reading ------------------------------------------------------------------------------------------

def crm_label(services: Services) -> str | None:
    """Which CRM connector is active, or None when the CRM is not connected."""
    crm = services.connectors.get("hubspot")
    return None if crm is None else str(getattr(crm, "label", type(crm).__name__))


def running_job(services: Services, actor: Actor) -> SyncJobView | None:
    return hubspot.running_job(services.uow(), actor=actor)  # not cached: the progress bar follows it


def progress_of(job: SyncJobView) -> tuple[float, str]:
    """Fraction done (0 when the total is unknown) and the text under the bar."""
    what = f"{job.kind.value.replace('_', ' ')} of {job.object_type.value}s"
    if job.progress_total:
        done = min(1.0, job.records_synced / job.progress_total)
        return done, f"{what}: {job.records_synced:,} of {job.progress_total:,} records"
    return 0.0, f"{what}: {job.records_synced:,} records so far"


def jobs_frame(rows: list[SyncJobView]) -> pd.DataFrame:
    return pd.DataFrame([{"id": j.id, "kind": j.kind.value, "object": j.object_type.value, "status": j.status.value,
                          "started": fmt_dt(j.started_at), "completed": fmt_dt(j.completed_at),
                          "records": j.records_synced, "errors": j.error_count, "triggered by": j.triggered_by,
                          "message": j.message or ""} for j in rows], columns=JOB_COLUMNS)


def errors_frame(rows: list[SyncErrorView]) -> pd.DataFrame:
    return pd.DataFrame([{"job": e.job_id, "object": e.object_type.value, "HubSpot id": e.hubspot_id,
                          "our id": e.local_id, "error": e.message, "at": fmt_dt(e.created_at)} for e in rows],
                        columns=["job", "object", "HubSpot id", "our id", "error", "at"])


def conflicts_frame(rows: list[ConflictView]) -> pd.DataFrame:
    return pd.DataFrame([{"id": c.id, "object": c.object_type.value, "our id": c.local_id, "field": c.field,
                          "ours": c.our_value, "HubSpot's": c.their_value,
                          "changed in HubSpot": fmt_dt(c.their_changed_at)} for c in rows],
                        columns=["id", "object", "our id", "field", "ours", "HubSpot's", "changed in HubSpot"])


def mapping_frame(setting: SyncSettingView) -> pd.DataFrame:
    return pd.DataFrame([{"ours": f.ours, "theirs": f.theirs, "transform": f.transform,
                          "direction": f.direction.value} for f in setting.mapping], columns=MAPPING_COLUMNS)


def field_choices(object_type: ObjectType) -> list[str]:
    return list(SYNCABLE_FIELDS[object_type])


def transform_choices() -> list[str]:
    return list(TRANSFORMS)


def latest_sync_alert(services: Services, actor: Actor | None = None) -> str | None:
    """The banner text when the newest finished HubSpot sync failed (None otherwise, or when the signed-in
    user may not see integrations). Home.py calls it; ``actor`` defaults to the signed-in user."""
    if actor is None:
        from ui.runtime import ACTOR_KEY

        signed_in = st.session_state.get(ACTOR_KEY)
        actor = signed_in if isinstance(signed_in, Actor) else None
    if actor is None or not allowed(actor, RESOURCE, READ):
        return None
    state = health(services, actor)
    if not state.failing:
        return None
    when = fmt_dt(state.last_failure_at)
    return f"The last HubSpot sync failed ({when}): {state.last_failure_message or 'no message'}. See Integrations."


# Writes (on_click callbacks) -----------------------------------------------------------------------------

def do_test_connection(services: Services, actor: Actor) -> None:
    ok, message = test_connection(services.connectors.get("hubspot"), actor=actor)  # type: ignore[arg-type]
    set_flash(FLASH, "success" if ok else "error", message)


def do_sync_now(services: Services, actor: Actor, full: bool) -> None:
    """Checked and recorded in core, then handed to the worker (which writes the job rows we show)."""

    def request() -> None:
        hubspot.request_sync(services.uow(), actor=actor, full=full)
        from jobs.hubspot import sync_hubspot

        sync_hubspot(full)

    attempt(FLASH, request, success="Full import queued." if full else "Sync queued.")
    refresh()


def save_settings(services: Services, actor: Actor, object_type: ObjectType, *, direction: str, frequency: int,
                  policy: str, edited: pd.DataFrame) -> None:
    """The mapping editor's form: rows without both field names are dropped; core refuses an invalid mapping."""
    mapping = [FieldMap(ours=str(r["ours"]), theirs=str(r["theirs"]).strip(), transform=str(r["transform"] or "text"),
                        direction=Direction(r["direction"] or Direction.both.value))
               for r in edited.to_dict("records") if r.get("ours") and r.get("theirs")]

    def save() -> Any:
        data = SyncSettingInput(direction=Direction(direction), frequency_minutes=frequency,
                                conflict_policy=ConflictPolicy(policy), mapping=mapping)
        return hubspot.update_sync_settings(services.uow(), actor=actor, object_type=object_type, data=data)

    attempt(FLASH, save, success=f"{object_type.value.title()} sync settings saved.")
    refresh()


def do_resolve(services: Services, actor: Actor, conflict_id: int, take_theirs: bool) -> None:
    attempt(FLASH, lambda: hubspot.resolve_conflict(services.uow(), actor=actor, conflict_id=conflict_id,
                                                    take_theirs=take_theirs),
            success="Took HubSpot's value." if take_theirs else "Kept our value; it goes to HubSpot on the next sync.",
            areas=("contacts", "companies"))
    refresh()


def failed(job: SyncJobView) -> bool:
    return job.status is JobStatus.failed
