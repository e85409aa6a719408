"""Writing audit rows; called by every use case inside its own transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.auth.actor import Actor

_SECRET_HINTS = ("password", "secret", "token", "api_key", "hash")


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _mask(field: str, value: Any) -> Any:
    return "***" if any(hint in field.lower() for hint in _SECRET_HINTS) else _plain(value)


def changes_of(obj: object) -> dict[str, Any]:
    """Changed column values of a pending ORM object as {field: [old, new]}, secrets masked."""
    state = inspect(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                out[attr.key] = [_mask(attr.key, old), _mask(attr.key, new)]
    return out


def snapshot_of(obj: object) -> dict[str, Any]:
    """All column values of an object, for create and delete rows."""
    state = inspect(obj)
    return {
        attr.key: _mask(attr.key, getattr(obj, attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in ("created_at", "updated_at")
    }


def record(
    session: Session,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: object | None,
    changes: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            actor_label=actor.label,
            action=action,
            resource_type=resource_type,
            resource_id=None if resource_id is None else str(resource_id),
            changes=_plain(changes or {}),
        )
    )
