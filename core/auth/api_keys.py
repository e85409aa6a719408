"""API keys for programs: shown once, stored as SHA-256 with a public prefix, scoped, expiring, rotatable.

A key acts as its user narrowed to its scopes: ``read:contacts`` allows (contacts, read), ``write:contacts``
allows create, update, delete and import. The usual ``require`` then answers both "may this role" and
"may this key". Keys are long random strings, so a fast hash is safe and keeps each request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.credential_models import ApiKey
from core.auth.errors import AuthenticationFailed
from core.auth.login import actor_for_session
from core.auth.models import User, UserStatus
from core.auth.permissions import CREATE, DELETE, GRANTS, IMPORT, READ, UPDATE, require
from core.auth.schemas import ApiKeyView, NewApiKey
from core.errors import NotFound, ValidationFailed
from core.uow import UnitOfWork

KEY_PREFIX = "sa_"
_WRITE = (CREATE, UPDATE, DELETE, IMPORT)
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_KEY = "The API key is missing, malformed, expired or revoked."


def known_scopes() -> list[str]:
    resources = sorted({r for grants in GRANTS.values() for r in grants})
    return [f"{kind}:{r}" for r in resources for kind in ("read", "write")]


def scope_permissions(scopes: list[str]) -> frozenset[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for scope in scopes:
        kind, _, resource = scope.partition(":")
        pairs |= {(resource, READ)} if kind == "read" else {(resource, a) for a in _WRITE}
    return frozenset(pairs)


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(known_scopes()))
    if unknown or not scopes:
        raise ValidationFailed(f"Unknown or missing scopes: {', '.join(unknown) or '(none)'}; "
                               f"known: {', '.join(known_scopes())}")
    return sorted(set(scopes))


def key_prefix_of(secret: str) -> str | None:
    """'sa_0123abcd4567_<random>' -> 'sa_0123abcd4567' (the random part may itself hold underscores)."""
    head, sep, rest = secret.removeprefix(KEY_PREFIX).partition("_")
    return KEY_PREFIX + head if secret.startswith(KEY_PREFIX) and sep and head and rest else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> tuple[str, str]:
    prefix = KEY_PREFIX + secrets.token_hex(6)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def _add_key(
    uow: UnitOfWork, user_id: int, name: str, scopes: list[str], expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    prefix, secret = _new_secret()
    key = ApiKey(user_id=user_id, name=name, prefix=prefix, key_hash=_digest(secret), scopes=scopes,
                 expires_at=expires_at)
    uow.session.add(key)
    uow.session.flush()
    return key, secret


def create_api_key(
    uow: UnitOfWork, *, actor: Actor, user_id: int, name: str, scopes: list[str], expires_at: datetime | None = None,
) -> NewApiKey:
    require(actor, "api_keys", CREATE)
    scopes = _check_scopes(scopes)
    with uow:
        user = uow.session.get(User, user_id)
        if user is None or user.status is UserStatus.deleted:
            raise NotFound(f"user {user_id} not found")
        key, secret = _add_key(uow, user_id, name, scopes, expires_at)
        audit.record(uow.session, actor, "create", "api_key", key.id,
                     {"name": name, "prefix": key.prefix, "scopes": scopes, "user_id": user_id})
        result = NewApiKey(key=ApiKeyView.model_validate(key), secret=secret)
        uow.commit()
    return result


def rotate_api_key(uow: UnitOfWork, *, actor: Actor, key_id: int, grace: timedelta, now: datetime) -> NewApiKey:
    """A new key with the same scopes; the old one keeps working for ``grace``, then expires."""
    require(actor, "api_keys", UPDATE)
    with uow:
        old = uow.session.get(ApiKey, key_id)
        if old is None or old.revoked_at is not None:
            raise NotFound(f"API key {key_id} not found")
        new, secret = _add_key(uow, old.user_id, old.name, list(old.scopes), old.expires_at)
        ends = now + grace
        old.expires_at = ends if old.expires_at is None else min(old.expires_at, ends)
        old.replaced_by_id = new.id
        audit.record(uow.session, actor, "rotate", "api_key", old.id,
                     {"new_key_id": new.id, "new_prefix": new.prefix, "old_expires_at": ends})
        result = NewApiKey(key=ApiKeyView.model_validate(new), secret=secret)
        uow.commit()
    return result


def revoke_api_key(uow: UnitOfWork, *, actor: Actor, key_id: int, now: datetime) -> ApiKeyView:
    require(actor, "api_keys", DELETE)
    with uow:
        key = uow.session.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"API key {key_id} not found")
        key.revoked_at = key.revoked_at or now
        audit.record(uow.session, actor, "revoke", "api_key", key.id, {"prefix": key.prefix})
        view = ApiKeyView.model_validate(key)
        uow.commit()
    return view


def list_api_keys(uow: UnitOfWork, *, actor: Actor, user_id: int | None = None) -> list[ApiKeyView]:
    require(actor, "api_keys", READ)
    with uow:
        query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        if user_id is not None:
            query = query.where(ApiKey.user_id == user_id)
        return [ApiKeyView.model_validate(k) for k in uow.session.scalars(query)]


def authenticate_api_key(uow: UnitOfWork, *, secret: str, now: datetime) -> Actor:
    """The key's user narrowed to the key's scopes, or AuthenticationFailed."""
    prefix = key_prefix_of(secret)
    if prefix is None:
        raise AuthenticationFailed(INVALID_KEY)
    with uow:
        key = uow.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if key is None or not hmac.compare_digest(key.key_hash, _digest(secret)):
            raise AuthenticationFailed(INVALID_KEY)
        if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            raise AuthenticationFailed(INVALID_KEY)
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            key.last_used_at = now
            uow.commit()
        user_id, scopes, key_prefix, created = key.user_id, list(key.scopes), key.prefix, key.created_at
    # A key made before its user's last sign-out-everywhere still works: keys are revoked one by one.
    actor = actor_for_session(uow, user_id=user_id, issued_at=max(created, now), via=f"api_key:{key_prefix}")
    if actor is None:
        raise AuthenticationFailed(INVALID_KEY)
    assert actor.permissions is not None
    return Actor(user_id=actor.user_id, email=actor.email, name=actor.name, roles=actor.roles,
                 permissions=actor.permissions & scope_permissions(scopes), via=actor.via)
