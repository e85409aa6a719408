"""Authentication failures: who you are could not be established (HTTP 401), unlike PermissionDenied (403)."""

from __future__ import annotations

from core.errors import SalesAgentError

# One message for a wrong password, an unknown email and an inactive user: it never says which.
SIGN_IN_FAILED = "Incorrect email or password."


class AuthenticationFailed(SalesAgentError):
    code = "authentication_failed"


class SignInLocked(AuthenticationFailed):
    """Too many failed sign-ins for this email or address; ``retry_after`` seconds until the lock ends."""

    code = "sign_in_locked"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
