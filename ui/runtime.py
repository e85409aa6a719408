"""Per-process services and per-rerun context for the dashboard."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import select

from core.auth.actor import SYSTEM, Actor
from core.auth.models import User, UserStatus
from core.config import load_settings
from core.demo import DEMO_USER_EMAIL
from core.errors import ConfigError
from core.logging import bind_trace_id, configure_logging
from core.services import Services, build_services


@st.cache_resource(show_spinner=False)
def get_services() -> Services:
    """Settings and services are built once per dashboard process, on the first rerun."""
    settings = load_settings()
    configure_logging(settings)
    return build_services(settings)


def start_rerun(page: str) -> Services:
    """Call first on every page: builds services, tags this rerun's logs with a trace id."""
    try:
        services = get_services()
    except ConfigError as exc:
        st.error(str(exc))
        st.stop()
    bind_trace_id(process="dashboard", page=page)
    return services


@st.cache_data(ttl=60, show_spinner=False)
def _actor_for(email: str, _services: Services) -> Actor | None:
    with _services.uow() as uow:
        user = uow.session.scalar(select(User).where(User.email == email))
        if user is None or user.status is not UserStatus.active:
            return None
        return Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))


def current_actor(services: Services) -> Actor:
    """The signed-in user. Until login lands (users issue) the dashboard acts as the demo user."""
    return _actor_for(DEMO_USER_EMAIL, services) or SYSTEM
