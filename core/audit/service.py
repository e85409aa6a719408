"""Writing audit rows; called by every use case inside its own transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.auth.actor import Actor
from core.auth.permissions import READ, require
from core.uow import UnitOfWork

_SECRET_HINTS = ("password", "secret", "token", "api_key", "hash")


def plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def _mask(field: str, value: Any) -> Any:
    return "***" if any(hint in field.lower() for hint in _SECRET_HINTS) else plain(value)


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
            changes=plain(changes or {}),
        )
    )


def history_for(
    uow: UnitOfWork, *, actor: Actor, resource_type: str, resource_id: object, limit: int = 100,
) -> list[dict[str, Any]]:
    """Audit rows of one record, newest first, for its history panel."""
    resource = _RESOURCE_OF.get(resource_type, resource_type + "s")
    require(actor, resource, READ)
    with uow:
        rows = uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.resource_type == resource_type, AuditEntry.resource_id == str(resource_id))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
        return [{"at": r.at, "actor_label": r.actor_label, "action": r.action, "changes": r.changes}
                for r in rows]


_RESOURCE_OF = {"company": "companies", "contact": "contacts", "campaign": "campaigns", "template": "templates",
                "snippet": "snippets", "draft": "drafts", "task": "tasks", "voice_profile": "voice_profiles",
                "suppression": "contacts"}
