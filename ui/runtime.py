"""Per-process services and per-rerun context for the dashboard: sign-in gate, actor, page views."""

from __future__ import annotations

import streamlit as st

from core.activity.service import record_activity
from core.auth.actor import Actor
from core.config import load_settings
from core.errors import ConfigError
from core.logging import bind_trace_id, configure_logging, get_logger
from core.services import Services, build_services
from ui.auth import login_gate, sidebar

ACTOR_KEY = "auth_actor"
log = get_logger("ui.runtime")


@st.cache_resource(show_spinner=False)
def get_services() -> Services:
    """Settings and services are built once per dashboard process, on the first rerun."""
    settings = load_settings()
    configure_logging(settings)
    return build_services(settings)


def _record_page_view(services: Services, actor: Actor, page: str) -> None:
    # A page view is arriving on a page, not every rerun that a widget on it triggers.
    if st.session_state.get("auth_last_page") == page:
        return
    st.session_state["auth_last_page"] = page
    try:
        record_activity(services.uow(), kind="page_view", endpoint=page, user_id=actor.user_id,
                        credential="dashboard")
    except Exception as exc:  # the page matters more than our bookkeeping
        log.warning("page view not recorded", error=type(exc).__name__)


def start_rerun(page: str) -> Services:
    """Call first on every page: builds services, signs the user in (or stops), tags logs with a trace id."""
    try:
        services = get_services()
    except ConfigError as exc:
        st.error(str(exc))
        st.stop()
    bind_trace_id(process="dashboard", page=page)
    actor = login_gate(services)
    st.session_state[ACTOR_KEY] = actor
    bind_trace_id(user_id=actor.user_id)
    sidebar(services, actor)
    _record_page_view(services, actor, page)
    return services


def current_actor(services: Services) -> Actor:
    """The signed-in user of this rerun (start_rerun put it there); signs in first if it did not run."""
    actor = st.session_state.get(ACTOR_KEY)
    if isinstance(actor, Actor):
        return actor
    return login_gate(services)
