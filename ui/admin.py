"""Admin page helpers: cached reads of users, API keys, audit and activity; writes go through core."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import pydantic
import streamlit as st

from core.activity.service import list_activity
from core.audit.log import list_audit
from core.auth.actor import Actor
from core.auth.api_keys import create_api_key, list_api_keys, revoke_api_key, rotate_api_key
from core.auth.models import Role
from core.auth.schemas import UserInput, UserView
from core.auth.service import (
    change_roles,
    create_user,
    invite_user,
    list_users,
    password_reset_link,
    reactivate_user,
    suspend_user,
)
from core.errors import SalesAgentError
from core.services import Services
from ui.caching import HASH_FUNCS


@st.cache_data(ttl=30, show_spinner=False, hash_funcs=HASH_FUNCS)
def users(_services: Services, actor: Actor) -> list[UserView]:
    return list_users(_services.uow(), actor=actor)


def users_frame(rows: list[UserView]) -> pd.DataFrame:
    return pd.DataFrame([{"id": u.id, "email": u.email, "name": u.name, "roles": ", ".join(u.roles),
                          "status": u.status.value, "password set": u.has_password,
                          "last sign-in": u.last_login_at} for u in rows],
                        columns=["id", "email", "name", "roles", "status", "password set", "last sign-in"])


def keys_frame(services: Services, actor: Actor) -> pd.DataFrame:
    names = {u.id: u.email for u in users(services, actor)}
    rows = list_api_keys(services.uow(), actor=actor)
    return pd.DataFrame([{"id": k.id, "user": names.get(k.user_id, k.user_id), "name": k.name, "prefix": k.prefix,
                          "scopes": " ".join(k.scopes), "expires": k.expires_at, "last used": k.last_used_at,
                          "revoked": k.revoked_at} for k in rows],
                        columns=["id", "user", "name", "prefix", "scopes", "expires", "last used", "revoked"])


def audit_frame(services: Services, actor: Actor, **filters: object) -> pd.DataFrame:
    rows = list_audit(services.uow(), actor=actor, **filters)  # type: ignore[arg-type]
    return pd.DataFrame([{"at": r.at, "actor": r.actor_label, "action": r.action, "resource": r.resource_type,
                          "id": r.resource_id, "changes": r.changes} for r in rows],
                        columns=["at", "actor", "action", "resource", "id", "changes"])


def activity_frame(services: Services, actor: Actor) -> pd.DataFrame:
    rows = list_activity(services.uow(), actor=actor, limit=300)
    return pd.DataFrame([r.model_dump() for r in rows])


def invite_link(services: Services, token: str) -> str:
    return f"{services.settings.effective_dashboard_url}/?set_password={token}"


# Writes (on_click callbacks): each stores its outcome for the next rerun ---------------------------------

def attempt(write: Callable[..., None], *args: object) -> None:
    """Run one write; a refusal from core (or invalid input) is shown instead of a traceback."""
    try:
        write(*args)
    except (SalesAgentError, pydantic.ValidationError) as exc:
        st.session_state["admin_error"] = getattr(exc, "message", None) or "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()  # type: ignore[union-attr]
        )


def _done(message: str, **extra: object) -> None:
    users.clear()
    st.session_state["admin_result"] = {"message": message, **extra}


def do_create_user(services: Services, actor: Actor, email: str, name: str, roles: list[Role], invite: bool,
                   password: str) -> None:
    data = UserInput(email=email, name=name, roles=roles, password=None if invite else password)
    if invite:
        user, token = invite_user(services.uow(), actor=actor, data=data,
                                  secret=services.settings.effective_secret_key, now=services.clock())
        _done(f"Invited {user.email}. Send them this link (valid 7 days):", link=invite_link(services, token))
    else:
        user = create_user(services.uow(), actor=actor, data=data)
        _done(f"Created {user.email}.")


def do_change_roles(services: Services, actor: Actor, user_id: int, roles: list[Role]) -> None:
    change_roles(services.uow(), actor=actor, user_id=user_id, roles=roles)
    _done("Roles changed.")


def do_suspend(services: Services, actor: Actor, user_id: int, suspend: bool) -> None:
    use_case = suspend_user if suspend else reactivate_user
    use_case(services.uow(), actor=actor, user_id=user_id, now=services.clock())
    _done("User suspended; their sessions ended." if suspend else "User reactivated.")


def do_reset_link(services: Services, actor: Actor, user_id: int) -> None:
    token = password_reset_link(services.uow(), actor=actor, user_id=user_id,
                                secret=services.settings.effective_secret_key, now=services.clock())
    _done("Password reset link (valid 24 hours):", link=invite_link(services, token))


def do_create_key(services: Services, actor: Actor, user_id: int, name: str, scopes: list[str],
                  days: int | None) -> None:
    expires = services.clock() + timedelta(days=days) if days else None
    new = create_api_key(services.uow(), actor=actor, user_id=user_id, name=name, scopes=scopes, expires_at=expires)
    _done("API key created. Copy it now: it is shown only once.", secret=new.secret)


def do_rotate_key(services: Services, actor: Actor, key_id: int) -> None:
    grace = timedelta(hours=services.settings.api_key_rotation_grace_hours)
    new = rotate_api_key(services.uow(), actor=actor, key_id=key_id, grace=grace, now=services.clock())
    _done(f"Key rotated; the old one works for {grace} more. Copy the new key now:", secret=new.secret)


def do_revoke_key(services: Services, actor: Actor, key_id: int) -> None:
    revoke_api_key(services.uow(), actor=actor, key_id=key_id, now=services.clock())
    _done("Key revoked.")
