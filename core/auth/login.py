"""Password sign-in with a brute-force limit per email and per address, and server-side sign-out.

The limit: ``max_attempts`` failures within ``window_minutes`` lock that email (or address) for
``lock_minutes``; attempts during a lock are refused without being counted, so the lock ends by itself.
Unknown emails are counted and locked exactly like known ones, so the answers never tell them apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.errors import SIGN_IN_FAILED, AuthenticationFailed, SignInLocked
from core.auth.models import LoginAttempt, User, UserStatus
from core.auth.passwords import verify_password
from core.auth.permissions import permissions_for, role_grants
from core.auth.schemas import LoginLimits
from core.uow import UnitOfWork


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _lock_ends(times: list[datetime], limits: LoginLimits) -> datetime | None:
    """When the latest lock ends, given failure times oldest first; None if none was triggered."""
    window, lock = timedelta(minutes=limits.window_minutes), timedelta(minutes=limits.lock_minutes)
    n = limits.max_attempts
    ends: datetime | None = None
    for i in range(n - 1, len(times)):
        if times[i] - times[i - n + 1] <= window:
            ends = times[i] + lock
    return ends


def _failures(session: Session, column: str, value: str, since: datetime) -> list[datetime]:
    col = getattr(LoginAttempt, column)
    last_success = None
    if column == "username":  # a successful sign-in clears that email's count, not the address's
        last_success = session.scalar(select(LoginAttempt.at).where(col == value, LoginAttempt.succeeded)
                                      .order_by(LoginAttempt.at.desc()).limit(1))
    query = select(LoginAttempt.at).where(col == value, ~LoginAttempt.succeeded, LoginAttempt.at > since)
    if last_success is not None:
        query = query.where(LoginAttempt.at > last_success)
    return list(session.scalars(query.order_by(LoginAttempt.at)))


def lock_remaining(session: Session, *, username: str, address: str, now: datetime, limits: LoginLimits) -> int:
    """Seconds until this email and this address may try again; 0 when neither is locked."""
    since = now - timedelta(minutes=limits.window_minutes + limits.lock_minutes)
    remaining = 0
    for column, value in (("username", username), ("address", address)):
        ends = _lock_ends(_failures(session, column, value, since), limits)
        if ends is not None and ends > now:
            remaining = max(remaining, int((ends - now).total_seconds()) + 1)
    return remaining


def load_actor(uow: UnitOfWork, user: User, *, via: str) -> Actor:
    grants = role_grants(uow.session)
    return Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles),
                 permissions=permissions_for(grants, user.roles), via=via)


def authenticate_password(
    uow: UnitOfWork, *, email: str, password: str, address: str, now: datetime, limits: LoginLimits,
    via: str = "dashboard",
) -> Actor:
    """The signed-in actor, or AuthenticationFailed (SignInLocked while locked) with one generic message."""
    username = email.strip().lower()
    with uow:
        session = uow.session
        remaining = lock_remaining(session, username=username, address=address, now=now, limits=limits)
        if remaining:
            minutes = max(1, round(remaining / 60))
            raise SignInLocked(f"Too many failed sign-ins. Try again in about {minutes} minute(s).",
                               retry_after=remaining)
        user = session.scalar(select(User).where(User.email == username))
        ok = verify_password(password, user.password_hash if user else None)
        ok = ok and user is not None and user.status is UserStatus.active
        session.add(LoginAttempt(at=now, username=username, address=address, succeeded=ok))
        if not ok or user is None:
            uow.commit()
            raise AuthenticationFailed(SIGN_IN_FAILED)
        user.last_login_at = now
        uow.commit()
        user_id = user.id
    return actor_for_session(uow, user_id=user_id, issued_at=now, via=via) or _refuse()


def _refuse() -> Actor:
    raise AuthenticationFailed(SIGN_IN_FAILED)


def actor_for_session(uow: UnitOfWork, *, user_id: int, issued_at: datetime, via: str = "dashboard") -> Actor | None:
    """The actor of a session or token issued at ``issued_at``; None once the user was signed out,
    suspended or deleted since."""
    with uow:
        user = uow.session.get(User, user_id)
        if user is None or user.status is not UserStatus.active:
            return None
        if user.sessions_valid_after is not None and issued_at <= user.sessions_valid_after:
            return None
        return load_actor(uow, user, via=via)


def sign_out_everywhere(uow: UnitOfWork, *, user_id: int, now: datetime) -> None:
    """End every dashboard session and token of the user issued until now (cookies copied before included)."""
    with uow:
        user = uow.session.get(User, user_id)
        if user is None:
            return
        user.sessions_valid_after = now
        me = Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))
        audit.record(uow.session, me, "sign_out", "user", user.id, {})
        uow.commit()


def prune_login_attempts(uow: UnitOfWork, *, older_than: datetime) -> int:
    with uow:
        deleted = _rows(uow.session.execute(delete(LoginAttempt).where(LoginAttempt.at < older_than)))
        uow.commit()
    return int(deleted or 0)
