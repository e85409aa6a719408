"""Notifications: an interested reply reaches its owner's list; only the owner sees and marks it; counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.actor import Actor
from core.auth.models import Role
from core.content.drafts import create_draft, transition_draft
from core.content.models import DraftStatus
from core.content.schemas import DraftInput
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.mail import pipeline
from core.mail.inbound import process_inbound_mail
from core.mail.ledger import queue_approved_draft_for_sending
from core.mail.models import Notification
from core.mail.notifications import (
    list_notifications,
    mark_all_notifications_read,
    mark_notification_read,
    unread_notification_count,
)
from core.mail.schemas import InboundView, MailboxView
from core.mail.simulated import reply_to, sent_facts
from core.services import Services
from tests import factories
from tests.conftest import add_user

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def interested_reply(services: Services, admin: Actor, owner: Actor,
                     text: str = "Sounds great, let's talk Thursday at 3pm.") -> InboundView:
    """A message to a contact ``owner`` owns, sent through the outbox, answered with interest."""
    contact = factories.contact(services, admin, owner_id=owner.user_id, first_name="Ana", last_name="Lopez")
    draft = create_draft(services.uow(), actor=admin, data=DraftInput(contact_id=contact.id, subject="Freight",
                                                                     body="Hi Ana,\n\nWorth a chat?"))
    transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.approved)
    entry = queue_approved_draft_for_sending(services.uow(), actor=admin, draft_id=draft.id)
    assert pipeline.deliver(services, entry.id, owner="w1").outcome == "sent"
    view = process_inbound_mail(services, reply_to(sent_facts(services, entry.id), text), source="test")
    assert view.intent == "interested"
    return view


def add_notification(services: Services, user: Actor | None, title: str, *, minutes: int = 0,
                     read: bool = False) -> int:
    with services.uow() as uow:
        row = Notification(user_id=user.user_id if user else None, kind="interested_reply", title=title,
                           body=f"{title} body", created_at=T0 + timedelta(minutes=minutes),
                           read_at=T0 + timedelta(hours=1) if read else None)
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return row.id


def test_interested_reply_reaches_its_owners_list_and_no_one_elses(
        services: Services, admin: Actor, rep: Actor, viewer: Actor, outbox_mailbox: MailboxView) -> None:
    reply = interested_reply(services, admin, rep)

    page = list_notifications(services.uow(), actor=rep)
    assert (page.total, page.unread, len(page.items)) == (1, 1, 1)
    (item,) = page.items
    assert item.title == "Ana Lopez is interested" and item.kind == "interested_reply"
    assert item.contact_id == reply.contact_id and item.inbound_message_id == reply.id
    assert item.contact_email == reply.from_email == item.reply_from
    assert item.reply_text == "Sounds great, let's talk Thursday at 3pm." and item.reply_subject == "Re: Freight"
    assert item.read_at is None
    assert unread_notification_count(services.uow(), actor=rep) == 1
    # An admin sees their own notifications (and unowned ones), not a rep's.
    assert list_notifications(services.uow(), actor=admin).total == 0
    assert unread_notification_count(services.uow(), actor=viewer) == 0


def test_another_users_notification_is_refused_and_stays_unread(
        services: Services, admin: Actor, rep: Actor, viewer: Actor, outbox_mailbox: MailboxView) -> None:
    interested_reply(services, admin, rep)
    (item,) = list_notifications(services.uow(), actor=rep).items
    other_rep = add_user(services, "other.rep@example.com", Role.sales_rep)

    for outsider in (admin, other_rep):
        with pytest.raises(NotFound, match=f"notification {item.id} not found"):
            mark_notification_read(services.uow(), actor=outsider, notification_id=item.id)
    with pytest.raises(PermissionDenied):  # a viewer may read but never mark
        mark_notification_read(services.uow(), actor=viewer, notification_id=item.id)
    with pytest.raises(NotFound):
        mark_notification_read(services.uow(), actor=rep, notification_id=item.id + 1000)
    assert mark_all_notifications_read(services.uow(), actor=other_rep) == 0
    assert unread_notification_count(services.uow(), actor=rep) == 1


def test_mark_one_read_then_mark_all_read_and_the_counts_follow(
        services: Services, admin: Actor, rep: Actor, outbox_mailbox: MailboxView) -> None:
    interested_reply(services, admin, rep)
    add_notification(services, rep, "Second", minutes=1)
    add_notification(services, rep, "Third", minutes=2)
    admins_own = add_notification(services, admin, "For the admin")
    assert unread_notification_count(services.uow(), actor=rep) == 3

    first = list_notifications(services.uow(), actor=rep).items[0]
    marked = mark_notification_read(services.uow(), actor=rep, notification_id=first.id, now=T0)
    assert marked.read_at == T0
    again = mark_notification_read(services.uow(), actor=rep, notification_id=first.id)
    assert again.read_at == T0  # the first reading is kept
    page = list_notifications(services.uow(), actor=rep)
    assert page.unread == 2 and page.total == 3
    assert [n.id for n in page.items][-1] == first.id  # read ones sink below the unread
    assert [n.title for n in list_notifications(services.uow(), actor=rep, unread_only=True).items] == [
        "Third", "Second"]

    assert mark_all_notifications_read(services.uow(), actor=rep) == 2
    assert unread_notification_count(services.uow(), actor=rep) == 0
    assert list_notifications(services.uow(), actor=rep, unread_only=True).total == 0
    assert mark_all_notifications_read(services.uow(), actor=rep) == 0
    # The admin's own notification was not touched by the rep's "mark all".
    assert [n.id for n in list_notifications(services.uow(), actor=admin, unread_only=True).items] == [admins_own]
    with services.uow() as uow:
        audited = list(uow.session.scalars(select(AuditEntry.resource_id).where(
            AuditEntry.resource_type == "notification", AuditEntry.actor_id == rep.user_id).order_by(AuditEntry.id)))
    assert audited == [str(first.id), None]  # one per change: the single mark, then the "mark all"


def test_list_is_unread_first_newest_first_and_pages(services: Services, rep: Actor) -> None:
    for minute, read in ((0, False), (1, True), (2, False), (3, True), (4, False)):
        add_notification(services, rep, f"n{minute}", minutes=minute, read=read)

    titles = [n.title for n in list_notifications(services.uow(), actor=rep).items]
    assert titles == ["n4", "n2", "n0", "n3", "n1"]
    second = list_notifications(services.uow(), actor=rep, limit=2, offset=2)
    assert [n.title for n in second.items] == ["n0", "n3"] and (second.total, second.unread) == (5, 3)
    with pytest.raises(ValidationFailed, match="limit"):
        list_notifications(services.uow(), actor=rep, limit=0)
    with pytest.raises(ValidationFailed, match="offset"):
        list_notifications(services.uow(), actor=rep, offset=-1)


def test_notifications_nobody_owns_go_to_admins_and_managers(services: Services, admin: Actor, rep: Actor) -> None:
    orphan = add_notification(services, None, "Reply from a contact without an owner")
    manager = add_user(services, "manager@example.com", Role.manager)

    assert [n.id for n in list_notifications(services.uow(), actor=admin).items] == [orphan]
    assert unread_notification_count(services.uow(), actor=manager) == 1
    assert list_notifications(services.uow(), actor=rep).total == 0
    with pytest.raises(NotFound):
        mark_notification_read(services.uow(), actor=rep, notification_id=orphan)
    assert mark_notification_read(services.uow(), actor=manager, notification_id=orphan).read_at is not None
    assert unread_notification_count(services.uow(), actor=admin) == 0
