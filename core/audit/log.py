"""The audit log as a whole: filtered listing for the Admin page and CSV, and the retention purge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select

from core.audit.models import AuditEntry
from core.audit.service import record
from core.auth.actor import Actor
from core.auth.permissions import DELETE, READ, require
from core.uow import UnitOfWork


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class AuditRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    resource_type: str
    resource_id: str | None
    changes: dict[str, Any]


def list_audit(
    uow: UnitOfWork, *, actor: Actor, actor_label: str | None = None, resource_type: str | None = None,
    action: str | None = None, since: datetime | None = None, until: datetime | None = None, limit: int = 500,
) -> list[AuditRow]:
    require(actor, "audit", READ)
    query = select(AuditEntry)
    if actor_label:
        query = query.where(AuditEntry.actor_label == actor_label)
    if resource_type:
        query = query.where(AuditEntry.resource_type == resource_type)
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    with uow:
        rows = uow.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                   .limit(max(1, min(limit, 10_000))))
        return [AuditRow.model_validate(r) for r in rows]


def purge_audit(uow: UnitOfWork, *, actor: Actor, retention_days: int, now: datetime) -> int:
    """Delete audit rows older than the retention period; the purge itself leaves one row."""
    require(actor, "audit", DELETE)
    cutoff = now - timedelta(days=retention_days)
    with uow:
        deleted = int(_rows(uow.session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))) or 0)
        if deleted:
            record(uow.session, actor, "purge", "audit_log", None, {"before": cutoff, "rows": deleted})
        uow.commit()
    return deleted
