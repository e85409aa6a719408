"""One error hierarchy for every use case, adapter and entry point.

Entry points translate these into their own vocabulary (HTTP status, CLI exit code, an st.error box);
nothing above core needs to know about SQLAlchemy or vendor exceptions.
"""

from __future__ import annotations


class SalesAgentError(Exception):
    """Base of every error raised on purpose by core."""

    code = "error"

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigError(SalesAgentError):
    """Settings are missing or invalid; the process must not start."""

    code = "config_error"


class ValidationFailed(SalesAgentError):
    """Input was rejected; nothing was changed."""

    code = "validation_failed"


class NotFound(SalesAgentError):
    code = "not_found"


class Conflict(SalesAgentError):
    """The request contradicts the current state (duplicate, cycle, illegal transition)."""

    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class PermissionDenied(SalesAgentError):
    code = "permission_denied"


class ConnectorError(SalesAgentError):
    """An outside system failed. ``retryable`` tells the caller whether trying again may help."""

    code = "connector_error"

    def __init__(
        self,
        message: str,
        *,
        connector: str,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        details: object | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.connector = connector
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
