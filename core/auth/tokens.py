"""Bearer tokens for API clients: a short-lived access JWT plus a rotating refresh token.

Refresh tokens are opaque, stored hashed, and form a family per sign-in: presenting one that was already
rotated (a stolen copy) revokes the whole family. Logout revokes the access token's id (checked on every
request) and the family.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import delete, select, update

from core.auth.actor import Actor
from core.auth.credential_models import RefreshToken, RevokedToken
from core.auth.errors import AuthenticationFailed
from core.auth.login import actor_for_session, authenticate_password
from core.auth.schemas import LoginLimits, TokenPair
from core.uow import UnitOfWork


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

ALGORITHM = "HS256"
AUDIENCE = "sales-agent-api"
INVALID_TOKEN = "The access token is missing, malformed, expired or revoked."  # noqa: S105
INVALID_REFRESH = "The refresh token is invalid, expired or already used."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _signing_key(secret: str) -> str:
    # Derived, so a token signed for the API can never pass as an invite link or a cookie.
    return hashlib.sha256(b"api-access-token:" + secret.encode("utf-8")).hexdigest()


def _issue(uow: UnitOfWork, *, user_id: int, family: str, secret: str, now: datetime,
           access_ttl: int, refresh_ttl: int) -> TokenPair:
    claims = {"sub": str(user_id), "jti": uuid.uuid4().hex, "fam": family, "aud": AUDIENCE,
              "iat": int(now.timestamp()), "exp": int(now.timestamp()) + access_ttl}
    access = jwt.encode(claims, _signing_key(secret), algorithm=ALGORITHM)
    refresh = secrets.token_urlsafe(32)
    uow.session.add(RefreshToken(user_id=user_id, family=family, token_hash=_digest(refresh), issued_at=now,
                                 expires_at=now + timedelta(seconds=refresh_ttl)))
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=access_ttl)


def issue_tokens(
    uow: UnitOfWork, *, email: str, password: str, address: str, secret: str, now: datetime,
    limits: LoginLimits, access_ttl: int, refresh_ttl: int,
) -> TokenPair:
    """Sign in with email and password (same brute-force limit as the dashboard)."""
    actor = authenticate_password(uow, email=email, password=password, address=address, now=now, limits=limits,
                                  via="token")
    assert actor.user_id is not None
    with uow:
        pair = _issue(uow, user_id=actor.user_id, family=uuid.uuid4().hex, secret=secret, now=now,
                      access_ttl=access_ttl, refresh_ttl=refresh_ttl)
        uow.commit()
    return pair


def refresh_tokens(uow: UnitOfWork, *, refresh_token: str, secret: str, now: datetime, access_ttl: int,
                   refresh_ttl: int) -> TokenPair:
    with uow:
        session = uow.session
        row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token)))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise AuthenticationFailed(INVALID_REFRESH)
        if row.used_at is not None:  # replayed: someone else holds a copy; end the whole sign-in
            session.execute(update(RefreshToken).where(RefreshToken.family == row.family,
                                                       RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
            uow.commit()
            raise AuthenticationFailed(INVALID_REFRESH)
        row.used_at = now
        user_id, family, issued_at = row.user_id, row.family, row.issued_at
        uow.commit()
    if actor_for_session(uow, user_id=user_id, issued_at=issued_at, via="token") is None:
        raise AuthenticationFailed(INVALID_REFRESH)
    with uow:
        pair = _issue(uow, user_id=user_id, family=family, secret=secret, now=now, access_ttl=access_ttl,
                      refresh_ttl=refresh_ttl)
        uow.commit()
    return pair


def _decode(token: str, secret: str, now: datetime) -> dict[str, object]:
    try:
        claims: dict[str, object] = jwt.decode(
            token, _signing_key(secret), algorithms=[ALGORITHM], audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "jti"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise AuthenticationFailed(INVALID_TOKEN) from None
    # Expiry checked against our clock (tests and a shared clock), not the process's wall time.
    if int(str(claims["exp"])) <= now.timestamp():
        raise AuthenticationFailed(INVALID_TOKEN)
    return claims


def actor_for_access_token(uow: UnitOfWork, *, token: str, secret: str, now: datetime) -> Actor:
    claims = _decode(token, secret, now)
    with uow:
        if uow.session.get(RevokedToken, str(claims["jti"])) is not None:
            raise AuthenticationFailed(INVALID_TOKEN)
    issued = datetime.fromtimestamp(int(str(claims["iat"])), UTC)
    # iat has whole seconds: a token issued in the same second as a sign-out counts as issued before it.
    actor = actor_for_session(uow, user_id=int(str(claims["sub"])), issued_at=issued, via="token")
    if actor is None:
        raise AuthenticationFailed(INVALID_TOKEN)
    return actor


def revoke_tokens(uow: UnitOfWork, *, token: str, secret: str, now: datetime) -> None:
    """Logout: this access token and every refresh token of its sign-in stop working at once."""
    claims = _decode(token, secret, now)
    with uow:
        session = uow.session
        jti = str(claims["jti"])
        if session.get(RevokedToken, jti) is None:
            session.add(RevokedToken(jti=jti, expires_at=datetime.fromtimestamp(int(str(claims["exp"])), UTC)))
        session.execute(update(RefreshToken).where(RefreshToken.family == str(claims["fam"]),
                                                   RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
        uow.commit()


def prune_tokens(uow: UnitOfWork, *, now: datetime) -> int:
    """Drop blacklist rows and refresh tokens past their expiry: they cannot be used any more anyway."""
    with uow:
        n = _rows(uow.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))) or 0
        n += _rows(uow.session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now))) or 0
        uow.commit()
    return int(n)
