"""What a recipient does through a signed link: unsubscribe (RFC 8058 one-click) and resubscribe.

The signed token is the authority here (there is no signed-in user): each change is audited as the recipient.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import delete, select

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.models import Role
from core.auth.permissions import READ, require
from core.config import Settings
from core.crm.models import Suppression, SuppressionReason
from core.mail.models import EventType, Mailbox, MessageEvent, SendLedgerEntry
from core.mail.secrets import read_unsubscribe_token
from core.uow import UnitOfWork

RECIPIENT = Actor(user_id=None, email="recipient", name="Recipient (signed link)",
                  roles=frozenset({Role.admin.value}))


@dataclass(frozen=True)
class UnsubscribeTarget:
    masked_email: str
    sender: str
    unsubscribed: bool


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "•••" + local[-1:] if len(local) > 2 else local[:1] + "•••") + "@" + domain


def _entry(uow: UnitOfWork, settings: Settings, token: str) -> SendLedgerEntry | None:
    entry_id = read_unsubscribe_token(settings, token)
    return uow.session.get(SendLedgerEntry, entry_id) if entry_id is not None else None


def _is_unsubscribed(uow: UnitOfWork, email: str) -> bool:
    return uow.session.scalar(select(Suppression.id).where(
        Suppression.email == email, Suppression.reason == SuppressionReason.unsubscribed)) is not None


def describe_unsubscribe(uow: UnitOfWork, *, settings: Settings, token: str) -> UnsubscribeTarget | None:
    """For the confirmation page: reads only (link scanners fetch GETs)."""
    with uow:
        entry = _entry(uow, settings, token)
        if entry is None:
            return None
        mailbox = uow.session.get(Mailbox, entry.mailbox_id)
        sender = (mailbox.from_name or mailbox.email) if mailbox else "the sender"
        return UnsubscribeTarget(_mask(entry.to_email), sender, _is_unsubscribed(uow, entry.to_email))


def unsubscribe_by_token(uow: UnitOfWork, *, settings: Settings, token: str) -> UnsubscribeTarget | None:
    """Suppress the address the token was sent to; idempotent. None when the token is not ours."""
    with uow:
        entry = _entry(uow, settings, token)
        if entry is None:
            return None
        if not _is_unsubscribed(uow, entry.to_email):
            uow.session.add(Suppression(email=entry.to_email, reason=SuppressionReason.unsubscribed,
                                        detail=f"one-click unsubscribe from message {entry.id}"))
            uow.session.add(MessageEvent(ledger_entry_id=entry.id, type=EventType.unsubscribe))
            audit.record(uow.session, RECIPIENT, "create", "suppression", entry.to_email,
                         {"reason": SuppressionReason.unsubscribed, "ledger_entry_id": entry.id})
        target = UnsubscribeTarget(_mask(entry.to_email), "", True)
        uow.commit()
    return target


def resubscribe_by_token(uow: UnitOfWork, *, settings: Settings, token: str) -> UnsubscribeTarget | None:
    """Undo an unsubscribe (only that reason: bounces and complaints stay suppressed)."""
    with uow:
        entry = _entry(uow, settings, token)
        if entry is None:
            return None
        removed = uow.session.execute(delete(Suppression).where(
            Suppression.email == entry.to_email, Suppression.reason == SuppressionReason.unsubscribed))
        if getattr(removed, "rowcount", 0):
            audit.record(uow.session, RECIPIENT, "delete", "suppression", entry.to_email,
                         {"reason": SuppressionReason.unsubscribed, "resubscribed": True})
        target = UnsubscribeTarget(_mask(entry.to_email), "", False)
        uow.commit()
    return target


def export_suppressions_csv(uow: UnitOfWork, *, actor: Actor) -> bytes:
    """The whole suppression list as CSV (email, reason, detail, created_at)."""
    require(actor, "contacts", READ)
    with uow:
        rows = uow.session.execute(select(Suppression.email, Suppression.reason, Suppression.detail,
                                          Suppression.created_at).order_by(Suppression.created_at, Suppression.id))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["email", "reason", "detail", "created_at"])
        for email, reason, detail, created_at in rows:
            writer.writerow([email, reason.value, detail or "", created_at.isoformat()])
    return out.getvalue().encode("utf-8")
