"""User use cases: create, invite, suspend, delete, reset password, change roles, sync role grants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import jwt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.errors import AuthenticationFailed
from core.auth.login import load_actor
from core.auth.models import Role, RolePermission, User, UserStatus
from core.auth.passwords import check_password_rules, hash_password
from core.auth.permissions import CREATE, READ, UPDATE, clear_permission_cache, require, seed_pairs
from core.auth.schemas import UserInput, UserView, VerifiedIdentity
from core.errors import Conflict, NotFound, ValidationFailed
from core.uow import UnitOfWork

INVITE_TTL = timedelta(days=7)
RESET_TTL = timedelta(hours=24)
_LINK_PURPOSE = "set_password"
# One answer for a suspended, deleted or not-allowed account: it never says which.
OIDC_REFUSED = "This Google account may not sign in here. Ask an administrator."
NO_ADMIN_YET = "No administrator exists yet: create the first one with a password, then sign in with Google."


def _view(user: User) -> UserView:
    return UserView.model_validate(user).model_copy(update={"has_password": bool(user.password_hash)})


def _load(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.status is UserStatus.deleted:
        raise NotFound(f"user {user_id} not found")
    return user


def create_user(uow: UnitOfWork, *, actor: Actor, data: UserInput) -> UserView:
    require(actor, "users", CREATE)
    password_hash = hash_password(data.password) if data.password else None  # hashed before the transaction
    with uow:
        session = uow.session
        if session.scalar(select(User.id).where(User.email == data.email)) is not None:
            raise Conflict(f"a user with the email {data.email} already exists")
        user = User(email=data.email, name=data.name, title=data.title, roles=[r.value for r in data.roles],
                    status=UserStatus.active, timezone=data.timezone, password_hash=password_hash,
                    email_verified=data.email_verified)
        session.add(user)
        session.flush()
        audit.record(session, actor, "create", "user", user.id, audit.snapshot_of(user))
        view = _view(user)
        uow.commit()
    return view


def create_first_admin(uow: UnitOfWork, *, data: UserInput) -> UserView:
    """The first user of a fresh installation, made an admin; refused once any user exists."""
    if data.password is None:
        raise ValidationFailed("The first administrator needs a password.")
    password_hash = hash_password(data.password)
    with uow:
        session = uow.session
        if session.scalar(select(User.id).limit(1)) is not None:
            raise Conflict("Users exist already; ask an administrator to invite you.")
        user = User(email=data.email, name=data.name, roles=[Role.admin.value], status=UserStatus.active,
                    timezone=data.timezone, password_hash=password_hash)
        session.add(user)
        session.flush()
        me = Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))
        audit.record(session, me, "create", "user", user.id, audit.snapshot_of(user))
        view = _view(user)
        uow.commit()
    return view


def _link_token(user: User, *, secret: str, now: datetime, ttl: timedelta) -> str:
    # "pw" ties the link to the current password: it stops working once any password is set.
    claims = {"sub": str(user.id), "purpose": _LINK_PURPOSE, "pw": (user.password_hash or "")[-12:],
              "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, secret, algorithm="HS256")


def invite_user(uow: UnitOfWork, *, actor: Actor, data: UserInput, secret: str, now: datetime) -> tuple[UserView, str]:
    """Create a user without a password; returns the token of the link that lets them choose one."""
    require(actor, "users", CREATE)
    invited = create_user(uow, actor=actor, data=data.model_copy(update={"password": None}))
    with uow:
        user = _load(uow.session, invited.id)
        audit.record(uow.session, actor, "invite", "user", user.id, {})
        token = _link_token(user, secret=secret, now=now, ttl=INVITE_TTL)
        uow.commit()
    return invited, token


def password_reset_link(uow: UnitOfWork, *, actor: Actor, user_id: int, secret: str, now: datetime) -> str:
    """A one-use link token letting the user choose a new password (admin 'reset password')."""
    require(actor, "users", UPDATE)
    with uow:
        user = _load(uow.session, user_id)
        audit.record(uow.session, actor, "reset_password_link", "user", user.id, {})
        token = _link_token(user, secret=secret, now=now, ttl=RESET_TTL)
        uow.commit()
    return token


def set_password_with_link(uow: UnitOfWork, *, token: str, password: str, secret: str, now: datetime) -> UserView:
    """The invitee or the user who was sent a reset link chooses a password; the link authorises it."""
    check_password_rules(password)
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        raise AuthenticationFailed("This link is invalid or has expired.") from None
    if claims.get("purpose") != _LINK_PURPOSE:
        raise AuthenticationFailed("This link is invalid or has expired.")
    new_hash = hash_password(password)
    with uow:
        user = _load(uow.session, int(claims["sub"]))
        if (user.password_hash or "")[-12:] != claims.get("pw") or user.status is not UserStatus.active:
            raise AuthenticationFailed("This link is invalid or has expired.")
        user.password_hash = new_hash
        user.email_verified = True  # the link arrived at that address
        user.sessions_valid_after = now
        me = Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))
        audit.record(uow.session, me, "set_password", "user", user.id, audit.changes_of(user))
        view = _view(user)
        uow.commit()
    return view


def set_user_password(uow: UnitOfWork, *, actor: Actor, user_id: int, password: str, now: datetime) -> UserView:
    """An admin sets a password directly; every session of that user ends."""
    require(actor, "users", UPDATE)
    new_hash = hash_password(password)
    with uow:
        user = _load(uow.session, user_id)
        user.password_hash = new_hash
        user.sessions_valid_after = now
        audit.record(uow.session, actor, "reset_password", "user", user.id, audit.changes_of(user))
        view = _view(user)
        uow.commit()
    return view


def _set_status(uow: UnitOfWork, actor: Actor, user_id: int, status: UserStatus, now: datetime) -> UserView:
    require(actor, "users", UPDATE)
    if actor.user_id == user_id and status is not UserStatus.active:
        raise ValidationFailed("You cannot suspend or delete yourself.")
    with uow:
        user = _load(uow.session, user_id)
        user.status = status
        if status is not UserStatus.active:
            user.sessions_valid_after = now
        audit.record(uow.session, actor, "update", "user", user.id, audit.changes_of(user))
        view = _view(user)
        uow.commit()
    return view


def suspend_user(uow: UnitOfWork, *, actor: Actor, user_id: int, now: datetime) -> UserView:
    return _set_status(uow, actor, user_id, UserStatus.suspended, now)


def reactivate_user(uow: UnitOfWork, *, actor: Actor, user_id: int, now: datetime) -> UserView:
    return _set_status(uow, actor, user_id, UserStatus.active, now)


def delete_user(uow: UnitOfWork, *, actor: Actor, user_id: int, now: datetime) -> UserView:
    """Soft delete: the row stays so audit rows and owned records keep their names."""
    return _set_status(uow, actor, user_id, UserStatus.deleted, now)


def change_roles(uow: UnitOfWork, *, actor: Actor, user_id: int, roles: list[Role]) -> UserView:
    require(actor, "users", UPDATE)
    if not roles:
        raise ValidationFailed("A user needs at least one role.")
    with uow:
        user = _load(uow.session, user_id)
        user.roles = sorted({r.value for r in roles})
        audit.record(uow.session, actor, "update", "user", user.id, audit.changes_of(user))
        view = _view(user)
        uow.commit()
    return view


def list_users(uow: UnitOfWork, *, actor: Actor, include_deleted: bool = False) -> list[UserView]:
    require(actor, "users", READ)
    with uow:
        query = select(User).order_by(User.name)
        if not include_deleted:
            query = query.where(User.status != UserStatus.deleted)
        return [_view(u) for u in uow.session.scalars(query)]


def find_user_by_email(uow: UnitOfWork, *, actor: Actor, email: str) -> UserView | None:
    require(actor, "users", READ)
    with uow:
        user = uow.session.scalar(select(User).where(User.email == email.strip().lower()))
        return None if user is None else _view(user)


def sync_permissions(uow: UnitOfWork, *, actor: Actor) -> int:
    """Make role_permissions equal to the GRANTS seed; returns how many grants changed."""
    require(actor, "users", UPDATE)
    wanted = seed_pairs()
    with uow:
        session = uow.session
        rows = {(r.role, r.resource, r.action): r for r in session.scalars(select(RolePermission))}
        added = wanted - rows.keys()
        removed = rows.keys() - wanted
        for role, resource, action in sorted(added):
            session.add(RolePermission(role=role, resource=resource, action=action))
        if removed:
            session.execute(delete(RolePermission).where(RolePermission.id.in_([rows[k].id for k in removed])))
        if added or removed:
            audit.record(session, actor, "update", "role_permissions", None,
                         {"added": sorted(added), "removed": sorted(removed)})
        uow.commit()
    clear_permission_cache()
    return len(added) + len(removed)


def sign_in_with_identity(uow: UnitOfWork, *, identity: VerifiedIdentity, now: datetime,
                          allowed_domains: Sequence[str] = ()) -> Actor:
    """Google sign-in: link the user with the provider-verified email, or create one as a viewer.

    No ``actor``: the validated id_token is the authority. Suspended and deleted users are refused with the
    same message as an unknown domain. Who may create an account by signing in: nobody when
    ``allowed_domains`` is empty (invite only: existing users are linked), addresses at those domains, or
    any verified address with ``["*"]``.
    """
    email = identity.email.strip().lower()
    with uow:
        session = uow.session
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            if session.scalar(select(User.id).limit(1)) is None:  # the first user must be an administrator
                raise AuthenticationFailed(NO_ADMIN_YET)
            domain = email.rpartition("@")[2]
            if "*" not in allowed_domains and domain not in allowed_domains:
                raise AuthenticationFailed(OIDC_REFUSED)
            user = User(email=email, name=(identity.name or email.split("@")[0])[:200], roles=[Role.viewer.value],
                        status=UserStatus.active, email_verified=True, last_login_at=now)
            session.add(user)
            session.flush()
            me = Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles), via="oidc")
            audit.record(session, me, "create", "user", user.id,
                         {**audit.snapshot_of(user), "issuer": identity.issuer, "subject": identity.subject})
        elif user.status is not UserStatus.active:
            raise AuthenticationFailed(OIDC_REFUSED)
        else:
            user.email_verified = True  # the provider vouches for this address
            user.last_login_at = now
            me = Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles), via="oidc")
            audit.record(session, me, "sign_in", "user", user.id,
                         {"method": "oidc", "issuer": identity.issuer, "subject": identity.subject})
        actor = load_actor(uow, user, via="oidc")
        uow.commit()
    return actor
