"""Gmail's Pub/Sub push: verify the OIDC token Google signs each push with, read the notification, drop repeats.

Pub/Sub sends ``Authorization: Bearer <id_token>`` signed by Google (keys at GMAIL_PUSH_JWKS_URL), for the
audience and service account configured on the push subscription; anything else is refused before any
database work.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.config import Settings
from core.logging import get_logger
from core.mail.gmail_models import GmailPushMessage
from core.uow import UnitOfWork

ALGORITHMS = ["RS256"]  # what Google signs with; "none" and HMAC are never accepted
CLOCK_SKEW_SECONDS = 60
JWKS_CACHE_SECONDS = 3600.0
_GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})

log = get_logger("core.mail.gmail_push")


class PushRefused(Exception):
    """The push is not verifiably from our Pub/Sub subscription; ``reason`` is logged, never shown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PushNotification:
    pubsub_message_id: str
    email: str
    history_id: int


@lru_cache(maxsize=8)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # One client per URL per process: its key cache survives across requests.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=5)


_fetch_lock = threading.Lock()


def verify_push_token(settings: Settings, authorization: str | None, *, now: float) -> dict[str, Any]:
    """The token's claims when Google signed it for our audience and service account; PushRefused if not."""
    audience, account = settings.gmail_push_audience, settings.gmail_push_service_account
    if not audience or not account:
        raise PushRefused("not_configured")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PushRefused("missing_token")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise PushRefused("malformed") from None
    if header.get("alg") not in ALGORITHMS:
        raise PushRefused("algorithm")
    try:
        with _fetch_lock:
            key = _jwks_client(settings.gmail_push_jwks_url).get_signing_key(str(header.get("kid")))
    except jwt.PyJWKClientError:
        raise PushRefused("unknown_key") from None
    try:
        # Times are checked below against our clock.
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=ALGORITHMS, audience=audience,
            options={"require": ["iss", "aud", "exp", "iat"], "verify_exp": False, "verify_iat": False,
                     "verify_nbf": False, "verify_iss": False})
    except jwt.InvalidAudienceError:
        raise PushRefused("audience") from None
    except jwt.InvalidSignatureError:
        raise PushRefused("signature") from None
    except jwt.PyJWTError:
        raise PushRefused("claims") from None
    if claims["iss"] not in _GOOGLE_ISSUERS:
        raise PushRefused("issuer")
    try:
        expires, issued = int(claims["exp"]), int(claims["iat"])
    except (TypeError, ValueError):
        raise PushRefused("claims") from None
    if expires + CLOCK_SKEW_SECONDS <= now:
        raise PushRefused("expired")
    if issued - CLOCK_SKEW_SECONDS > now:
        raise PushRefused("issued_in_the_future")
    if str(claims.get("email") or "").lower() != account.lower():
        raise PushRefused("service_account")
    if claims.get("email_verified") not in (True, "true"):
        raise PushRefused("email_not_verified")
    return claims


def parse_push(body: Any) -> PushNotification:
    """``{"message": {"data": base64(json{emailAddress, historyId}), "messageId": ...}, "subscription": ...}``."""
    try:
        message = body["message"]
        data = json.loads(base64.b64decode(str(message["data"]), altchars=b"-_", validate=False))
        email = str(data["emailAddress"]).strip().lower()
        history_id = int(data["historyId"])
        message_id = str(message.get("messageId") or message.get("message_id") or "").strip()
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise ValueError("not a Gmail push notification") from None
    if not message_id or "@" not in email or history_id <= 0:
        raise ValueError("not a Gmail push notification")
    return PushNotification(pubsub_message_id=message_id[:200], email=email[:320], history_id=history_id)


def record_push(uow: UnitOfWork, push: PushNotification) -> bool:
    """Keep the push once by its Pub/Sub messageId; False when it was already taken in (a redelivery)."""
    with uow:
        seen = uow.session.scalar(select(GmailPushMessage.id)
                                  .where(GmailPushMessage.pubsub_message_id == push.pubsub_message_id))
        if seen is not None:
            return False
        uow.session.add(GmailPushMessage(pubsub_message_id=push.pubsub_message_id, email=push.email,
                                         history_id=push.history_id))
        try:
            uow.commit()
        except IntegrityError:  # the same push delivered twice at once: the other request took it
            return False
    return True
