"""Model usage: the per-user daily token budget, usage rows with estimated cost, and the usage summary."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func, select

from core.ai.models import ModelUsage
from core.ai.schemas import Purpose, Usage
from core.auth.actor import Actor
from core.auth.permissions import CREATE, READ, require
from core.errors import SalesAgentError
from core.uow import UnitOfWork

# US dollars per million tokens (input, output), from the providers' public price lists; longest prefix wins.
PRICES_PER_MILLION: dict[str, tuple[Decimal, Decimal]] = {
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
    "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
    "gpt-4.1-nano": (Decimal("0.10"), Decimal("0.40")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("1.60")),
    "gpt-4.1": (Decimal("2.00"), Decimal("8.00")),
    "gpt-3.5-turbo": (Decimal("0.50"), Decimal("1.50")),
}


class TokenBudgetExceeded(SalesAgentError):
    code = "token_budget_exceeded"


class UsageRow(BaseModel):
    model: str
    offline: bool
    calls: int
    prompt_tokens: int
    completion_tokens: int
    estimated_cost_usd: Decimal | None


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal | None:
    matches = [prefix for prefix in PRICES_PER_MILLION if model.startswith(prefix)]
    if not matches:
        return None
    price_in, price_out = PRICES_PER_MILLION[max(matches, key=len)]
    cost = (price_in * prompt_tokens + price_out * completion_tokens) / Decimal(1_000_000)
    return cost.quantize(Decimal("0.000001"))


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def tokens_used_today(uow: UnitOfWork, *, actor: Actor, now: datetime) -> int:
    """Tokens the actor spent on configured (paid) models since midnight UTC; the offline composer is free."""
    require(actor, "ai", READ)
    with uow:
        total = uow.session.scalar(
            select(func.coalesce(func.sum(ModelUsage.prompt_tokens + ModelUsage.completion_tokens), 0)).where(
                ModelUsage.user_id == actor.user_id, ModelUsage.offline.is_(False),
                ModelUsage.at >= _day_start(now)))
        return int(total or 0)


def check_budget(uow: UnitOfWork, *, actor: Actor, needed: int, budget: int, now: datetime) -> int:
    """Refuse before calling the model when ``needed`` more tokens would pass today's budget."""
    used = tokens_used_today(uow, actor=actor, now=now)
    if used + needed > budget:
        raise _exceeded(used, budget, needed)
    return budget - used


def _exceeded(used: int, budget: int, needed: int) -> TokenBudgetExceeded:
    return TokenBudgetExceeded(
        f"daily AI token budget spent: {used:,} of {budget:,} tokens used today and this request needs "
        f"about {needed:,}; it resets at midnight UTC (AI_DAILY_TOKEN_BUDGET)",
        details={"used": used, "budget": budget, "needed": needed})


def record_usage(uow: UnitOfWork, *, actor: Actor, purpose: Purpose, usage: Usage, now: datetime) -> None:
    """A usage row is itself the log of the call, so it carries no separate audit row."""
    record_usages(uow, actor=actor, purpose=purpose, usages=[usage], now=now)


def record_usages(uow: UnitOfWork, *, actor: Actor, purpose: Purpose, usages: Sequence[Usage], now: datetime) -> None:
    """Several calls' rows in one short transaction (bulk proposals write once per chunk, not per contact)."""
    require(actor, "ai", CREATE)
    if not usages:
        return
    with uow:
        for usage in usages:
            cost = Decimal(0) if usage.offline else estimate_cost(usage.model, usage.prompt_tokens,
                                                                   usage.completion_tokens)
            uow.session.add(ModelUsage(user_id=actor.user_id, purpose=purpose.value, model=usage.model,
                                       offline=usage.offline, prompt_tokens=usage.prompt_tokens,
                                       completion_tokens=usage.completion_tokens, estimated_cost_usd=cost, at=now))
        uow.commit()


class TokenAllowance:
    """Today's budget read once, then reserved in memory by concurrent calls of one batch.

    The lock guards two integers and is never held across a call, so workers do not wait on each other.
    """

    def __init__(self, *, used: int, budget: int) -> None:
        self._used, self._budget = used, budget
        self._lock = threading.Lock()

    @classmethod
    def for_today(cls, uow: UnitOfWork, *, actor: Actor, budget: int, now: datetime) -> TokenAllowance:
        return cls(used=tokens_used_today(uow, actor=actor, now=now), budget=budget)

    def reserve(self, needed: int) -> None:
        with self._lock:
            used = self._used
            if used + needed <= self._budget:
                self._used = used + needed
                return
        raise _exceeded(used, self._budget, needed)


def usage_summary(uow: UnitOfWork, *, actor: Actor, now: datetime, days: int = 30,
                  user_id: int | None = None) -> list[UsageRow]:
    """Usage per model over the last ``days`` days, for the actor (or, for managers, any user)."""
    require(actor, "ai", READ)
    owner = actor.user_id if user_id is None or not actor.has_role_name("admin", "manager") else user_id
    with uow:
        rows = uow.session.execute(
            select(ModelUsage.model, ModelUsage.offline, func.count(), func.sum(ModelUsage.prompt_tokens),
                   func.sum(ModelUsage.completion_tokens), func.sum(ModelUsage.estimated_cost_usd))
            .where(ModelUsage.user_id == owner, ModelUsage.at >= now - timedelta(days=days))
            .group_by(ModelUsage.model, ModelUsage.offline).order_by(ModelUsage.model))
        return [UsageRow(model=m, offline=o, calls=c, prompt_tokens=int(p or 0), completion_tokens=int(q or 0),
                         estimated_cost_usd=None if cost is None else Decimal(str(cost)))
                for m, o, c, p, q, cost in rows]
