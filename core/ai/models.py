"""Tables of the AI domain: model usage (tokens and estimated cost) and the account-research cache."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class ModelUsage(Base):
    """One model call: who, which model, tokens, estimated cost. The daily budget is summed from these."""

    __tablename__ = "ai_model_usage"
    __table_args__ = (Index("ix_ai_model_usage_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(120))
    offline: Mapped[bool] = mapped_column(default=False)
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    # None when the model's price is unknown (local models, gateways with their own pricing).
    estimated_cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountResearch(Base):
    """Cached analysis of one company; valid 24 h and only while its fingerprint (updated_at's) holds."""

    __tablename__ = "ai_account_research"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
