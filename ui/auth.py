"""Dashboard sign-in: the login gate every page passes through (via ui.runtime.start_rerun).

streamlit-authenticator keeps the re-authentication cookie (signed with AUTH_COOKIE_KEY) and is fed the
users table with hashes already computed. Passwords are checked by core (bcrypt, brute-force limit per
email and address), and every rerun asks core whether the session is still valid, so sign-out,
suspension and deletion take effect at the next rerun, and a cookie copied before sign-out is refused.

Google sign-in (when OIDC_* is configured): the sign-in page links to Google; Google sends the browser back
to the dashboard with ``code`` and ``state``, core exchanges and validates them (core.auth.oidc) and links
or creates the user (core.auth.service.sign_in_with_identity); from then on it is a session like any other.
"""

from __future__ import annotations

import contextlib
import html
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import nh3
import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy import select

from core.auth.actor import Actor
from core.auth.errors import AuthenticationFailed
from core.auth.login import actor_for_session, authenticate_password, sign_out_everywhere
from core.auth.models import User, UserStatus
from core.auth.oidc import OidcProvider
from core.auth.schemas import LoginLimits, UserInput
from core.auth.service import create_first_admin, set_password_with_link, sign_in_with_identity
from core.errors import ConnectorError, SalesAgentError
from core.services import Services
from ui.caching import HASH_FUNCS

SESSION_KEY = "auth_session"  # {"user_id": int, "issued_at": iso datetime}; server-side only
COOKIE_NAME = "sales_agent_session"


@st.cache_data(ttl=30, show_spinner=False, hash_funcs=HASH_FUNCS)
def _credentials(_services: Services) -> dict[str, Any]:
    """Active users with a password, as streamlit-authenticator wants them (hashes as stored)."""
    with _services.uow() as uow:
        users = uow.session.scalars(select(User).where(User.status == UserStatus.active,
                                                       User.password_hash.is_not(None)))
        return {"usernames": {u.email: {"email": u.email, "name": u.name, "password": u.password_hash,
                                        "roles": list(u.roles)} for u in users}}


@st.cache_data(ttl=30, show_spinner=False, hash_funcs=HASH_FUNCS)
def _user_id(email: str, _services: Services) -> int | None:
    with _services.uow() as uow:
        return uow.session.scalar(select(User.id).where(User.email == email))


@st.cache_data(ttl=30, show_spinner=False, hash_funcs=HASH_FUNCS)
def _has_users(_services: Services) -> bool:
    with _services.uow() as uow:
        return uow.session.scalar(select(User.id).limit(1)) is not None


def _authenticator(services: Services) -> Any:
    s = services.settings
    return stauth.Authenticate(_credentials(services), COOKIE_NAME, s.effective_auth_cookie_key,
                               s.auth_cookie_expiry_days, auto_hash=False)


def _limits(services: Services) -> LoginLimits:
    s = services.settings
    return LoginLimits(max_attempts=s.login_max_attempts, window_minutes=s.login_window_minutes,
                       lock_minutes=s.login_lock_minutes)


def _address() -> str:
    try:
        forwarded = st.context.headers.get("X-Forwarded-For", "")
        address = (forwarded.split(",")[0].strip() if isinstance(forwarded, str) else "") or st.context.ip_address
    except Exception:  # bare script runs have no request
        address = None
    return address[:64] if isinstance(address, str) and address else "unknown"


def _remember(actor: Actor, issued_at: datetime) -> None:
    st.session_state[SESSION_KEY] = {"user_id": actor.user_id, "issued_at": issued_at.isoformat()}


def _forget(authenticator: Any | None) -> None:
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop("auth_cookie_until", None)
    for name in ("authentication_status", "username", "name", "email", "roles"):
        st.session_state[name] = None
    if authenticator is not None:
        with contextlib.suppress(Exception):  # no cookie to delete
            authenticator.cookie_controller.delete_cookie()


def _session_actor(services: Services) -> Actor | None:
    session = st.session_state.get(SESSION_KEY)
    if not session:
        return None
    actor = actor_for_session(services.uow(), user_id=int(session["user_id"]),
                              issued_at=datetime.fromisoformat(session["issued_at"]))
    if actor is None:
        _forget(None)
        st.session_state["auth_notice"] = "You were signed out. Sign in again to continue."
    return actor


def _cookie_actor(services: Services, authenticator: Any) -> Actor | None:
    token = authenticator.cookie_controller.get_cookie()
    if not token:
        return None
    user_id = _user_id(str(token["username"]), services)
    # The cookie holds its expiry; its issue time follows from the configured lifetime.
    days = services.settings.auth_cookie_expiry_days
    issued_at = datetime.fromtimestamp(float(token["exp_date"]), UTC) - timedelta(days=days)
    actor = None if user_id is None else actor_for_session(services.uow(), user_id=user_id, issued_at=issued_at)
    if actor is None:
        _forget(authenticator)
        return None
    _remember(actor, issued_at)
    return actor


def _sign_in_form(services: Services, authenticator: Any) -> Actor | None:
    st.title("Sign in")
    notice = st.session_state.pop("auth_notice", None)
    if notice:
        st.info(notice)
    failed = st.session_state.pop("auth_error", None)
    if failed:
        st.error(failed)
    with st.form("auth_sign_in", clear_on_submit=False):
        email = st.text_input("Email", key="auth_email")
        password = st.text_input("Password", type="password", key="auth_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    _google_link(services)
    if not submitted:
        return None
    now = services.clock()
    try:
        actor = authenticate_password(services.uow(), email=email, password=password, address=_address(),
                                      now=now, limits=_limits(services))
    except AuthenticationFailed as exc:
        st.error(exc.message)
        return None
    _start_session(actor, now, authenticator)
    return actor


COOKIE_RENDER_SECONDS = 30.0


def _start_session(actor: Actor, now: datetime, authenticator: Any) -> None:
    _remember(actor, now)
    st.session_state.update(authentication_status=True, username=actor.email, name=actor.name, email=actor.email)
    st.session_state["auth_cookie_until"] = time.monotonic() + COOKIE_RENDER_SECONDS
    authenticator.cookie_controller.set_cookie()


def _keep_setting_cookie(services: Services) -> None:
    # The cookie is written by a browser component; a rerun right after sign-in would unmount it before a
    # slow browser ran it, so it is drawn again on every rerun for a short while.
    if time.monotonic() < st.session_state.get("auth_cookie_until", 0.0):
        _authenticator(services).cookie_controller.set_cookie()


# Google sign-in -----------------------------------------------------------------------------------------

def _identity_provider(services: Services) -> OidcProvider | None:
    provider = services.connectors.get("identity")
    return provider if isinstance(provider, OidcProvider) else None


def _google_link(services: Services) -> None:
    provider = _identity_provider(services)
    if provider is None:
        return
    try:
        url = provider.begin_sign_in(now=services.clock()).url
    except ConnectorError:
        st.caption("Google sign-in is unavailable right now; use your password or try again later.")
        return
    # A plain link in this tab (st.link_button opens a new one): Google brings the browser back here.
    link = f'<a href="{html.escape(url)}" target="_self" id="auth-google">Sign in with Google</a>'
    st.html(nh3.clean(link, attributes={"a": {"href", "target", "id"}}, link_rel=None))


def _google_callback(services: Services) -> Actor | None:
    """Finish a Google sign-in when the browser comes back with ?code=…&state=… (or ?error=…).

    Plain Python until the session is remembered: a Streamlit call could be where a rerun interrupts
    this run, and the code works only once.
    """
    params = st.query_params
    code, state, error = params.get("code"), params.get("state"), params.get("error")
    provider = _identity_provider(services)
    if provider is None or not state or not (code or error):
        return None
    if error:
        st.session_state["auth_notice"] = "Google sign-in was cancelled."
        return None
    now = services.clock()
    try:
        identity = provider.finish_sign_in(code=str(code), state=str(state), now=now)
        actor = sign_in_with_identity(services.uow(), identity=identity, now=now,
                                      allowed_domains=services.settings.oidc_allowed_domain_list)
    except AuthenticationFailed as exc:
        st.session_state["auth_error"] = exc.message
        return None
    except ConnectorError:
        st.session_state["auth_error"] = "Google could not be reached to finish the sign-in. Try again."
        return None
    _remember(actor, now)
    return actor


def _drop_google_params() -> None:
    # The code is spent: keep it out of the address bar, reloads and bookmarks.
    if st.query_params.get("state") and (st.query_params.get("code") or st.query_params.get("error")):
        for name in ("code", "state", "scope", "authuser", "prompt", "hd", "error", "iss"):
            st.query_params.pop(name, None)


def _set_password_form(services: Services, token: str) -> None:
    st.title("Choose your password")
    with st.form("auth_set_password"):
        first = st.text_input("New password", type="password", key="auth_new_password")
        second = st.text_input("Repeat it", type="password", key="auth_new_password_again")
        submitted = st.form_submit_button("Save password", type="primary")
    if submitted:
        if first != second:
            st.error("The two passwords differ.")
            return
        try:
            user = set_password_with_link(services.uow(), token=token, password=first,
                                          secret=services.settings.effective_secret_key, now=services.clock())
        except SalesAgentError as exc:
            st.error(exc.message)
            return
        st.query_params.clear()
        _credentials.clear()
        st.success(f"Password saved for {user.email}. Sign in below.")


def _first_admin_form(services: Services) -> None:
    st.title("Create the first administrator")
    st.caption("No user exists yet. Or run `sales-agent demo load` and sign in as demo@example.com.")
    with st.form("auth_first_admin"):
        email = st.text_input("Email", key="auth_first_email")
        name = st.text_input("Name", key="auth_first_name")
        password = st.text_input("Password", type="password", key="auth_first_password")
        submitted = st.form_submit_button("Create administrator", type="primary")
    if submitted:
        try:
            create_first_admin(services.uow(), data=UserInput(email=email, name=name, password=password))
        except (SalesAgentError, ValueError) as exc:
            st.error(getattr(exc, "message", None) or "Check the email, name and password (8+ characters).")
            return
        _has_users.clear()
        _credentials.clear()
        st.rerun()


def _sign_out(services: Services, user_id: int) -> None:
    sign_out_everywhere(services.uow(), user_id=user_id, now=services.clock())
    _forget(None)
    st.session_state["auth_delete_cookie"] = True  # done by the gate's authenticator (one per rerun)
    st.session_state["auth_notice"] = "Signed out on every device."


def sidebar(services: Services, actor: Actor) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{actor.name or actor.email}** ({', '.join(sorted(actor.roles))})")
        st.button("Sign out", key="auth_sign_out", on_click=_sign_out, args=(services, actor.user_id))


def login_gate(services: Services) -> Actor:
    """The signed-in actor; otherwise renders the sign-in (or set-password) form and stops the page."""
    actor = _session_actor(services)
    if actor is not None:
        _keep_setting_cookie(services)
        _drop_google_params()
        return actor
    google = _google_callback(services)  # before any widget is drawn: see its docstring
    authenticator = _authenticator(services)
    if google is not None:
        _start_session(google, datetime.fromisoformat(st.session_state[SESSION_KEY]["issued_at"]), authenticator)
        _drop_google_params()
        return google
    _drop_google_params()
    if st.session_state.pop("auth_delete_cookie", False):
        _forget(authenticator)
    actor = _cookie_actor(services, authenticator)
    if actor is not None:
        return actor
    token = st.query_params.get("set_password")
    if token:
        _set_password_form(services, token)
    if not _has_users(services):
        _first_admin_form(services)
        st.stop()
    actor = _sign_in_form(services, authenticator)
    if actor is None:
        st.stop()
    assert actor is not None
    return actor
