"""Activity: who used what, when, how fast. Sampled per endpoint so high-volume paths stay cheap.

Not an audit trail (nothing changed); written by entry points after the response, system-level, no actor.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select

from core.activity.models import ActivityEvent
from core.auth.actor import Actor
from core.auth.permissions import READ, require
from core.uow import UnitOfWork


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

# Endpoint prefixes and the share of requests recorded; pixel and click endpoints arrive with mail tracking.
DEFAULT_SAMPLE_RATES: Mapping[str, float] = {"/t/": 0.01, "/c/": 0.05, "/health": 0.0, "/openapi.json": 0.1}


class ActivityRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    user_id: int | None
    credential: str | None
    endpoint: str
    method: str | None
    status: int | None
    duration_ms: float | None
    weight: int


def sample_rate(endpoint: str, rates: Mapping[str, float] = DEFAULT_SAMPLE_RATES) -> float:
    for prefix, rate in rates.items():
        if endpoint.startswith(prefix):
            return rate
    return 1.0


def should_record(rate: float, draw: float | None = None) -> bool:
    return rate > 0 and (draw if draw is not None else random.random()) < rate


def record_activity(
    uow: UnitOfWork, *, kind: str, endpoint: str, user_id: int | None, credential: str | None,
    method: str | None = None, status: int | None = None, duration_ms: float | None = None, rate: float = 1.0,
    at: datetime | None = None,
) -> None:
    with uow:
        uow.session.add(ActivityEvent(kind=kind, endpoint=endpoint[:200], user_id=user_id, credential=credential,
                                      method=method, status=status, duration_ms=duration_ms,
                                      weight=max(1, round(1 / rate)) if rate > 0 else 1,
                                      **({"at": at} if at else {})))
        uow.commit()


def list_activity(uow: UnitOfWork, *, actor: Actor, kind: str | None = None, limit: int = 500) -> list[ActivityRow]:
    require(actor, "audit", READ)
    query = select(ActivityEvent).order_by(ActivityEvent.at.desc(), ActivityEvent.id.desc()).limit(limit)
    if kind:
        query = query.where(ActivityEvent.kind == kind)
    with uow:
        return [ActivityRow.model_validate(r) for r in uow.session.scalars(query)]


def prune_activity(uow: UnitOfWork, *, older_than: timedelta, now: datetime) -> int:
    with uow:
        n = _rows(uow.session.execute(delete(ActivityEvent).where(ActivityEvent.at < now - older_than)))
        uow.commit()
    return int(n or 0)
