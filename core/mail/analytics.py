"""Email performance (seed 6.8): sent, delivered, human and machine opens, clicks, replies, bounces and rates,
overall, per day, and by campaign, mailbox or sender. Rates are over delivered messages; only human opens
and clicks count as engagement (machine opens are shown beside them, never added in)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select

from core.auth.actor import Actor
from core.auth.permissions import READ, require
from core.mail.models import Classification, EventType, MessageEvent, SendLedgerEntry
from core.uow import UnitOfWork

GroupBy = Literal["campaign", "mailbox", "sender"]
_COLUMN = {"campaign": SendLedgerEntry.campaign_id, "mailbox": SendLedgerEntry.mailbox_id,
           "sender": SendLedgerEntry.sender_id}


class PerformanceRow(BaseModel):
    key: str  # "all", a day (YYYY-MM-DD), or the campaign / mailbox / sender id ("none" when unset)
    sent: int = 0
    delivered: int = 0
    human_opens: int = 0
    machine_opens: int = 0
    clicks: int = 0
    replies: int = 0
    bounces: int = 0

    @property
    def rates(self) -> dict[str, float]:
        base = self.delivered or 1
        return {"open_rate": self.human_opens / base, "click_rate": self.clicks / base,
                "reply_rate": self.replies / base, "bounce_rate": self.bounces / (self.sent or 1)}

    def as_dict(self) -> dict[str, object]:
        return {**self.model_dump(), **{k: round(v, 4) for k, v in self.rates.items()}}


class EmailPerformance(BaseModel):
    since: datetime
    until: datetime
    totals: PerformanceRow
    by_day: list[PerformanceRow]
    groups: list[PerformanceRow]
    group_by: str | None


def email_performance(uow: UnitOfWork, *, actor: Actor, since: datetime, until: datetime,
                      group_by: GroupBy | None = None) -> EmailPerformance:
    """Each message counts once per signal (two human opens of one message are one open)."""
    require(actor, "analytics", READ)
    group_column = _COLUMN[group_by] if group_by else SendLedgerEntry.id
    with uow:
        sent = uow.session.execute(select(SendLedgerEntry.id, SendLedgerEntry.sent_at, group_column).where(
            SendLedgerEntry.sent_at >= since, SendLedgerEntry.sent_at < until)).all()
        ids = [row[0] for row in sent]
        signals: dict[int, set[str]] = defaultdict(set)
        for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
            found = uow.session.execute(select(MessageEvent.ledger_entry_id, MessageEvent.type,
                                               MessageEvent.classification).where(
                MessageEvent.ledger_entry_id.in_(ids[start:start + 900])).distinct())
            for entry_id, kind, label in found:
                if entry_id is None:
                    continue
                signals[entry_id].add(_signal(kind, label))
    totals = PerformanceRow(key="all")
    days: dict[date, PerformanceRow] = {}
    groups: dict[str, PerformanceRow] = {}
    for entry_id, sent_at, group in sent:
        day: date = sent_at.date() if sent_at else since.date()
        counted = [totals, days.setdefault(day, PerformanceRow(key=day.isoformat()))]
        if group_by:
            key = "none" if group is None else str(group)
            counted.append(groups.setdefault(key, PerformanceRow(key=key)))
        for row in counted:
            _count(row, signals.get(entry_id, set()))
    return EmailPerformance(since=since, until=until, totals=totals, by_day=[days[d] for d in sorted(days)],
                            groups=sorted(groups.values(), key=lambda r: r.key), group_by=group_by)


def _signal(kind: EventType, label: Classification) -> str:
    if kind in (EventType.open, EventType.click):
        return f"{kind.value}:{'human' if label is Classification.human else 'machine'}"
    return kind.value


def _count(row: PerformanceRow, signals: set[str]) -> None:
    row.sent += 1
    bounced = "bounce" in signals
    row.bounces += bounced
    row.delivered += not bounced
    row.human_opens += "open:human" in signals
    row.machine_opens += "open:machine" in signals and "open:human" not in signals
    row.clicks += "click:human" in signals
    row.replies += "reply" in signals
