"""bcrypt password hashing; the work factor is set once from Settings by build_services."""

from __future__ import annotations

from functools import cache

import bcrypt

from core.errors import ValidationFailed

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt ignores (v5: rejects) anything past 72 bytes
_rounds = 12


def set_rounds(rounds: int) -> None:
    global _rounds
    _rounds = rounds
    _dummy_hash.cache_clear()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"The password must have at least {MIN_LENGTH} characters.")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise ValidationFailed(f"The password must be at most {MAX_BYTES} bytes long.")


def hash_password(password: str) -> str:
    check_password_rules(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=_rounds)).decode("ascii")


@cache
def _dummy_hash() -> bytes:
    return bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds=_rounds))


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the user exists: a missing hash is checked against a dummy one."""
    candidate = password.encode("utf-8")[:MAX_BYTES]
    if not password_hash:
        bcrypt.checkpw(candidate, _dummy_hash())
        return False
    try:
        return bcrypt.checkpw(candidate, password_hash.encode("ascii"))
    except ValueError:
        return False
