"""Approve a draft and put it in the send ledger in one transaction: the hand-over from the queue to sending."""

from __future__ import annotations

from sqlalchemy import select

from core.audit import service as audit
from core.auth.actor import SYSTEM, Actor
from core.auth.login import load_actor
from core.auth.models import User, UserStatus
from core.auth.permissions import CREATE, UPDATE, require, require_owner
from core.content.models import DRAFT_TRANSITIONS, Draft, DraftStatus
from core.crm.models import Contact
from core.errors import InvalidTransition, NotFound
from core.mail.ledger import add_ledger_entry
from core.mail.models import SendLedgerEntry
from core.mail.schemas import LedgerEntryView
from core.uow import UnitOfWork


def approve_and_queue(uow: UnitOfWork, *, actor: Actor, draft_id: int,
                      mailbox_id: int | None = None) -> LedgerEntryView:
    """Approve the draft (if it is not yet) and write its ledger row; a second call returns the same row.

    Enqueue ``jobs.sending.send_ledger_entry(view.id)`` afterwards (or let the sweeper pick it up).
    """
    require(actor, "drafts", UPDATE)
    require(actor, "sending", CREATE)
    with uow:
        session = uow.session
        draft = session.get(Draft, draft_id)
        if draft is None:
            raise NotFound(f"draft {draft_id} not found")
        owner_id = session.scalar(select(Contact.owner_id).where(Contact.id == draft.contact_id))
        require_owner(actor, "drafts", owner_id)
        existing = session.scalar(select(SendLedgerEntry).where(SendLedgerEntry.draft_id == draft_id))
        if existing is not None:
            return LedgerEntryView.model_validate(existing)
        if draft.status not in (DraftStatus.approved, DraftStatus.scheduled):
            if DraftStatus.approved not in DRAFT_TRANSITIONS[draft.status]:
                raise InvalidTransition(f"a {draft.status.value} draft cannot be approved")
            draft.status, draft.approved_by_id, draft.scheduled_at = DraftStatus.approved, actor.user_id, None
            audit.record(session, actor, "update", "draft", draft.id, audit.changes_of(draft))
        entry = add_ledger_entry(uow, actor=actor, draft=draft, mailbox_id=mailbox_id, follow_up_of=None)
        view = LedgerEntryView.model_validate(entry)
        uow.commit()
    return view


def actor_for_user(uow: UnitOfWork, user_id: int | None) -> Actor:
    """The actor a queued job acts as: the user who asked (with their current grants), else the system."""
    if user_id is None:
        return SYSTEM
    with uow:
        user = uow.session.get(User, user_id)
        if user is None or user.status is not UserStatus.active:
            raise NotFound(f"user {user_id} not found or not active")
        return load_actor(uow, user, via="worker")
