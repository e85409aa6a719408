"""Queue metrics: size by status, average time in each status, research and proposal success, per rep."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select

from core.auth.actor import Actor
from core.auth.permissions import READ, require
from core.db import utcnow
from core.queue.models import QueueEntry, QueueStatus, QueueStatusChange
from core.queue.schemas import QueueMetrics, RepMetrics
from core.queue.service import RESOURCE
from core.uow import UnitOfWork

PAST_APPROVAL = (QueueStatus.approved, QueueStatus.sent)


def _rate(good: int, tried: int) -> float | None:
    return round(good / tried, 4) if tried else None


def queue_metrics(uow: UnitOfWork, *, actor: Actor, owner_id: int | None = None,
                  now: datetime | None = None) -> QueueMetrics:
    """Counts come from entries; durations and success rates from the status history.

    A status still occupied counts up to ``now``, so entries waiting long in pending show as such.
    """
    require(actor, RESOURCE, READ)
    now = now or utcnow()
    with uow:
        session = uow.session
        counts = select(QueueEntry.owner_id, QueueEntry.status, func.count()).group_by(QueueEntry.owner_id,
                                                                                      QueueEntry.status)
        if owner_id is not None:
            counts = counts.where(QueueEntry.owner_id == owner_id)
        per_owner: dict[int | None, dict[str, int]] = defaultdict(dict)
        for owner, status, n in session.execute(counts):
            per_owner[owner][status.value] = n
        history = select(QueueStatusChange.status, QueueStatusChange.from_status, QueueStatusChange.entered_at,
                         QueueStatusChange.left_at)
        if owner_id is not None:
            history = history.where(QueueStatusChange.owner_id == owner_id)
        seconds: dict[str, float] = defaultdict(float)
        spells: dict[str, int] = defaultdict(int)
        moves: dict[tuple[str | None, str], int] = defaultdict(int)
        for status, from_status, entered, left in session.execute(history):
            seconds[status.value] += max(0.0, ((left or now) - entered).total_seconds())
            spells[status.value] += 1
            moves[(from_status.value if from_status else None, status.value)] += 1
    by_status = {s.value: sum(c.get(s.value, 0) for c in per_owner.values()) for s in QueueStatus}
    researched = moves[("researching", "ready")]
    research_failed = moves[("researching", "failed")]
    proposed = moves[("ready", "draft_created")]
    proposal_failed = sum(n for (frm, to), n in moves.items() if frm == "ready" and to == "failed")
    approved = moves[("draft_created", "approved")]
    reps = [RepMetrics(owner_id=owner, total=sum(c.values()),
                       by_status={s.value: c.get(s.value, 0) for s in QueueStatus},
                       approved=sum(c.get(s.value, 0) for s in PAST_APPROVAL), sent=c.get("sent", 0))
            for owner, c in sorted(per_owner.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
    return QueueMetrics(
        total=sum(by_status.values()), by_status=by_status,
        avg_seconds_in_status={s: round(seconds[s] / spells[s], 1) for s in spells},
        research_success_rate=_rate(researched, researched + research_failed),
        proposal_success_rate=_rate(proposed, proposed + proposal_failed),
        approval_rate=_rate(approved, proposed),
        per_rep=reps)
