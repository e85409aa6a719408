"""/api/v1/analytics/email-performance: the Email Performance numbers for programs (scope read:analytics).

Its own blueprint under /api/v1 with the same authentication, activity records and rate limits as api.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.mail.analytics import email_performance
from public_endpoints import current_services
from public_endpoints.api_auth import SECURITY, api_blueprint, current_actor

bp = api_blueprint("api_v1_analytics", __name__, url_prefix="/api/v1", tag="Analytics")


class PerformanceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime | None = None  # default: 30 days before ``until``
    until: datetime | None = None  # default: now
    group_by: Literal["campaign", "mailbox", "sender"] | None = None


class PerformanceRowOut(BaseModel):
    key: str
    sent: int
    delivered: int
    human_opens: int
    machine_opens: int
    clicks: int
    replies: int
    bounces: int
    open_rate: float
    click_rate: float
    reply_rate: float
    bounce_rate: float


class PerformanceOut(BaseModel):
    since: datetime
    until: datetime
    group_by: str | None
    totals: PerformanceRowOut
    by_day: list[PerformanceRowOut] = Field(default_factory=list)
    groups: list[PerformanceRowOut] = Field(default_factory=list)


@bp.get("/analytics/email-performance")
@bp.input(PerformanceQuery, location="query", arg_name="query")
@bp.output(PerformanceOut)
@bp.doc(summary="Email performance: sent, delivered, human/machine opens, clicks, replies, bounces, rates",
        security=SECURITY)
def get_email_performance(query: PerformanceQuery) -> Any:
    services = current_services()
    until = query.until or services.clock()
    since = query.since or until - timedelta(days=30)
    until, since = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (until, since))
    report = email_performance(services.uow(), actor=current_actor(), since=since, until=until,
                               group_by=query.group_by)
    return {"since": report.since, "until": report.until, "group_by": report.group_by,
            "totals": report.totals.as_dict(), "by_day": [r.as_dict() for r in report.by_day],
            "groups": [r.as_dict() for r in report.groups]}
