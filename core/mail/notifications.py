"""A user's notifications (an interested reply arrived …): list, unread count, mark read.

The inbound pipeline (core.mail.inbound) creates them for the owner of the contact. Everyone sees only their
own; admins and managers also see the ones nobody owns (a reply from a contact without an owner), so such a
reply is never lost. Reading needs (sending, read), marking read (sending, update) — the same rights as the
replies themselves, and the API scopes read:sending / write:sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, update

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import READ, TEAM_WIDE_ROLES, UPDATE, require
from core.crm.models import Contact
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.mail.models import InboundMessage, Notification
from core.mail.schemas import NotificationView
from core.uow import UnitOfWork

MAX_LIMIT = 200


class NotificationPage(BaseModel):
    items: list[NotificationView]
    total: int  # of the actor's notifications matching the filter
    unread: int  # of all the actor's notifications
    limit: int
    offset: int


def _visible_to(actor: Actor) -> ColumnElement[bool]:
    if actor.user_id is None:  # the system: the notifications nobody owns
        return Notification.user_id.is_(None)
    if actor.roles & TEAM_WIDE_ROLES:
        return or_(Notification.user_id == actor.user_id, Notification.user_id.is_(None))
    return Notification.user_id == actor.user_id


Detailed = tuple[Notification, str | None, InboundMessage | None]


def _views(rows: Sequence[Detailed]) -> list[NotificationView]:
    return [NotificationView.model_validate(n).model_copy(update={
        "contact_email": email, "reply_from": m.from_email if m else "", "reply_subject": m.subject if m else "",
        "reply_text": (m.text if m and m.text else n.body)}) for n, email, m in rows]


def _with_details(query_filter: ColumnElement[bool]) -> Select[Notification, str, InboundMessage]:
    return (select(Notification, Contact.email, InboundMessage)
            .outerjoin(Contact, Contact.id == Notification.contact_id)
            .outerjoin(InboundMessage, InboundMessage.id == Notification.inbound_message_id)
            .where(query_filter))


def list_notifications(uow: UnitOfWork, *, actor: Actor, unread_only: bool = False, limit: int = 50,
                       offset: int = 0) -> NotificationPage:
    """The actor's notifications, unread first, newest first within each."""
    require(actor, "sending", READ)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise ValidationFailed(f"offset must not be negative, not {offset}")
    mine = _visible_to(actor)
    wanted = and_(mine, Notification.read_at.is_(None)) if unread_only else mine
    with uow:
        session = uow.session
        total = int(session.scalar(select(func.count()).select_from(Notification).where(wanted)) or 0)
        unread = int(session.scalar(select(func.count()).select_from(Notification)
                                    .where(mine, Notification.read_at.is_(None))) or 0)
        rows = session.execute(
            _with_details(wanted)
            .order_by(case((Notification.read_at.is_(None), 0), else_=1), Notification.created_at.desc(),
                      Notification.id.desc())
            .limit(limit).offset(offset)).all()
        return NotificationPage(items=_views(rows), total=total, unread=unread, limit=limit, offset=offset)


def unread_notification_count(uow: UnitOfWork, *, actor: Actor) -> int:
    require(actor, "sending", READ)
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(Notification)
                                      .where(_visible_to(actor), Notification.read_at.is_(None))) or 0)


def mark_notification_read(uow: UnitOfWork, *, actor: Actor, notification_id: int,
                           now: datetime | None = None) -> NotificationView:
    """Marks one of the actor's notifications read (again is harmless: the first time is kept).

    Someone else's notification is reported as not found, like one that does not exist.
    """
    require(actor, "sending", UPDATE)
    with uow:
        session = uow.session
        row = session.execute(_with_details(and_(Notification.id == notification_id, _visible_to(actor)))
                              ).first()
        if row is None:
            raise NotFound(f"notification {notification_id} not found",
                           details={"resource": "notification", "id": notification_id})
        notification = row[0]
        if notification.read_at is None:
            notification.read_at = now or utcnow()
            audit.record(session, actor, "update", "notification", notification.id,
                         {"read_at": notification.read_at})
            session.flush()
        (view,) = _views([row])
        uow.commit()
    return view


def mark_all_notifications_read(uow: UnitOfWork, *, actor: Actor, now: datetime | None = None) -> int:
    """Marks every unread notification of the actor read; returns how many were unread."""
    require(actor, "sending", UPDATE)
    moment = now or utcnow()
    with uow:
        session = uow.session
        result = session.execute(update(Notification)
                                 .where(_visible_to(actor), Notification.read_at.is_(None))
                                 .values(read_at=moment).execution_options(synchronize_session=False))
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            audit.record(session, actor, "update", "notification", None, {"marked_read": count, "read_at": moment})
        uow.commit()
    return count
