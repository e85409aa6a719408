"""Cached reads and small widgets of the Outbox and Sending pages; every read and write goes through core.mail."""

from __future__ import annotations

from datetime import timedelta

import nh3
import pandas as pd

from core.auth.actor import Actor
from core.mail import analytics, queries
from core.mail.analytics import EmailPerformance, PerformanceRow
from core.mail.models import SendStatus
from core.mail.queries import OutboxMessageView
from core.mail.schemas import InboundView, LedgerEntryView
from core.services import Services
from ui.data import _cached
from ui.widgets import fmt_dt, label

AREA = "sending"
LEDGER_COLUMNS = ["id", "to", "subject", "status", "attempts", "next attempt", "sent at", "last error",
                  "message id", "provider id"]


@_cached(AREA, ttl=10)
def outbox_messages(_services: Services, actor: Actor) -> list[OutboxMessageView]:
    return queries.list_outbox_messages(_services.uow(), actor=actor)


@_cached(AREA, ttl=10)
def inbound_for(_services: Services, actor: Actor, ledger_entry_id: int | None) -> list[InboundView]:
    return queries.list_inbound_messages(_services.uow(), actor=actor, ledger_entry_id=ledger_entry_id)


@_cached(AREA, ttl=10)
def ledger_entries(_services: Services, actor: Actor, status: str | None) -> list[LedgerEntryView]:
    return queries.list_ledger_entries(_services.uow(), actor=actor,
                                       status=SendStatus(status) if status else None)


@_cached(AREA, ttl=10)
def status_counts(_services: Services, actor: Actor) -> dict[str, int]:
    return queries.ledger_status_counts(_services.uow(), actor=actor)


def ledger_frame(entries: list[LedgerEntryView]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": e.id, "to": e.to_email, "subject": e.subject, "status": label(e.status), "attempts": e.attempts,
          "next attempt": fmt_dt(e.next_attempt_at), "sent at": fmt_dt(e.sent_at), "last error": e.last_error or "",
          "message id": e.message_id, "provider id": e.provider_message_id or ""} for e in entries],
        columns=LEDGER_COLUMNS)


def inbound_frame(items: list[InboundView]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"received": fmt_dt(m.received_at), "kind": label(m.kind), "from": m.from_email,
          "intent": label(m.intent), "status code": m.status_code or "", "text": m.text[:200]} for m in items],
        columns=["received", "kind", "from", "intent", "status code", "text"])


def framed(html: str, width: int) -> str:
    """The message as the recipient sees it, for st.html: sanitised again here (nh3 — no scripts, handlers or
    styles, whatever core stored) and boxed at a client's width (desktop or phone). Links open in a new tab,
    so following one never leaves the dashboard."""
    clean = nh3.clean(html, set_tag_attribute_values={"a": {"target": "_blank"}})
    return (f'<div style="max-width:{width}px;margin:0 auto;border:1px solid #ddd;padding:12px;'
            f'font-family:Arial,sans-serif;font-size:14px">{clean}</div>')


@_cached(AREA, ttl=60)
def email_performance(_services: Services, actor: Actor, days: int, group_by: str | None) -> EmailPerformance:
    until = _services.clock() + timedelta(minutes=1)
    return analytics.email_performance(_services.uow(), actor=actor, since=until - timedelta(days=days), until=until,
                                       group_by=group_by)  # type: ignore[arg-type]


def performance_frame(rows: list[PerformanceRow]) -> pd.DataFrame:
    return pd.DataFrame([r.as_dict() for r in rows],
                        columns=["key", "sent", "delivered", "human_opens", "machine_opens", "clicks", "replies",
                                 "bounces", "open_rate", "click_rate", "reply_rate", "bounce_rate"])
