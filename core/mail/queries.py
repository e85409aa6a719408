"""Reads of the mail domain for the dashboard: the outbox as recipients see it, the ledger, what came back."""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.parser import Parser

import nh3
from pydantic import BaseModel
from sqlalchemy import func, select

from core.auth.actor import Actor
from core.auth.permissions import READ, require
from core.mail.building import html_to_text
from core.mail.models import InboundMessage, OutboxMessage, SendLedgerEntry, SendStatus
from core.mail.schemas import InboundView, LedgerEntryView
from core.uow import UnitOfWork

# What a recipient's client would render: tags and attributes of ordinary mail, images (the pixel) included.
_MAIL_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height", "style"},
                    "p": {"style"}, "span": {"style"}, "div": {"style"}, "td": {"style"}}


class OutboxMessageView(BaseModel):
    id: int
    ledger_entry_id: int | None
    message_id: str
    from_header: str
    to_email: str
    subject: str
    created_at: datetime
    html: str  # sanitised again on the way out: what the iframe shows
    text: str


def recipient_html(markup: str) -> str:
    return nh3.clean(markup, url_schemes={"http", "https", "mailto"}, attributes=_MAIL_ATTRIBUTES,
                     link_rel="noopener noreferrer")


def _outbox_view(row: OutboxMessage, entry_id: int | None) -> OutboxMessageView:
    message = Parser(policy=policy.default).parsestr(row.raw)
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    html = recipient_html(html_part.get_content()) if html_part is not None else ""
    text = text_part.get_content() if text_part is not None else html_to_text(html)
    return OutboxMessageView(id=row.id, ledger_entry_id=entry_id, message_id=row.message_id,
                             from_header=str(message.get("From", "")), to_email=row.to_email, subject=row.subject,
                             created_at=row.created_at, html=html, text=text)


def list_outbox_messages(uow: UnitOfWork, *, actor: Actor, limit: int = 50) -> list[OutboxMessageView]:
    """The newest messages the embedded outbox accepted, rendered as their recipients would see them."""
    require(actor, "sending", READ)
    with uow:
        rows = uow.session.execute(
            select(OutboxMessage, SendLedgerEntry.id)
            .outerjoin(SendLedgerEntry, SendLedgerEntry.message_id == OutboxMessage.message_id)
            .order_by(OutboxMessage.id.desc()).limit(limit)).all()
        return [_outbox_view(row, entry_id) for row, entry_id in rows]


def list_ledger_entries(uow: UnitOfWork, *, actor: Actor, status: SendStatus | None = None,
                        limit: int = 500) -> list[LedgerEntryView]:
    require(actor, "sending", READ)
    with uow:
        query = select(SendLedgerEntry).order_by(SendLedgerEntry.id.desc()).limit(limit)
        if status is not None:
            query = query.where(SendLedgerEntry.status == status)
        return [LedgerEntryView.model_validate(e) for e in uow.session.scalars(query)]


def ledger_status_counts(uow: UnitOfWork, *, actor: Actor) -> dict[str, int]:
    require(actor, "sending", READ)
    with uow:
        rows = uow.session.execute(select(SendLedgerEntry.status, func.count()).group_by(SendLedgerEntry.status))
        counts = {status.value: 0 for status in SendStatus}
        counts.update({status.value: int(n) for status, n in rows})
        return counts


def list_inbound_messages(uow: UnitOfWork, *, actor: Actor, ledger_entry_id: int | None = None,
                          limit: int = 200) -> list[InboundView]:
    require(actor, "sending", READ)
    with uow:
        query = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
        if ledger_entry_id is not None:
            query = query.where(InboundMessage.ledger_entry_id == ledger_entry_id)
        return [InboundView.model_validate(m) for m in uow.session.scalars(query)]
