"""Mailbox credentials encrypted at rest (Fernet) and the signed, opaque tokens of recipient links."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, URLSafeTimedSerializer

from core.config import Settings
from core.errors import ConfigError

# Unsubscribe links must keep working long after the mail was sent (RFC 8058 asks for at least 60 days).
UNSUBSCRIBE_TOKEN_MAX_AGE = 400 * 24 * 3600


def _fernet(settings: Settings) -> Fernet:
    source = (settings.mailbox_encryption_key.get_secret_value() if settings.mailbox_encryption_key
              else settings.effective_secret_key)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sales-agent", info=b"mailbox-credentials").derive(
        source.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_credentials(settings: Settings, values: dict[str, Any]) -> bytes:
    return _fernet(settings).encrypt(json.dumps(values).encode("utf-8"))


def decrypt_credentials(settings: Settings, blob: bytes | None) -> dict[str, Any]:
    if not blob:
        return {}
    try:
        data: dict[str, Any] = json.loads(_fernet(settings).decrypt(blob))
    except InvalidToken:
        raise ConfigError("mailbox credentials cannot be decrypted: was the encryption key changed?") from None
    return data


def new_opaque_id() -> str:
    return secrets.token_urlsafe(16)


def _unsubscribe_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.effective_secret_key, salt="unsubscribe")


def unsubscribe_token(settings: Settings, ledger_entry_id: int) -> str:
    return _unsubscribe_serializer(settings).dumps(ledger_entry_id)


def read_unsubscribe_token(settings: Settings, token: str) -> int | None:
    """The ledger entry an unsubscribe token stands for, or None when it is forged, garbled or too old."""
    try:
        value = _unsubscribe_serializer(settings).loads(token, max_age=UNSUBSCRIBE_TOKEN_MAX_AGE)
    except (BadSignature, UnicodeError, ValueError, TypeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
