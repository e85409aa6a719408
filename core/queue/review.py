"""Reviewing proposals: edit in place (the model's text is kept), reject with a reason, approve.

Approving creates the draft through core.content.drafts, approves it, and hands it to sending through
core.mail when a mailbox is connected; the caller then enqueues ``jobs.sending.send_ledger_entry``.
"""

from __future__ import annotations

from sqlalchemy import select

from core.ai.personalization import calculate_personalization_score
from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, UPDATE, require, require_owner
from core.content import drafts
from core.content.models import Draft, DraftStatus
from core.content.schemas import DraftInput
from core.db import utcnow
from core.errors import InvalidTransition, NotFound, SalesAgentError, ValidationFailed
from core.mail import ledger
from core.mail.models import SendLedgerEntry, SendStatus
from core.queue.models import ProposalStatus, QueueEntry, QueueProposal, QueueStatus
from core.queue.schemas import ApprovalResult, EntryView, ProposalView
from core.queue.service import RESOURCE, entry_view, load_entry, move
from core.services import Services
from core.uow import UnitOfWork


def _open_proposal(uow: UnitOfWork, actor: Actor, proposal_id: int) -> tuple[QueueProposal, QueueEntry]:
    row = uow.session.get(QueueProposal, proposal_id)
    if row is None:
        raise NotFound(f"proposal {proposal_id} not found")
    entry = load_entry(uow.session, row.entry_id)
    require_owner(actor, "queue entries", entry.owner_id)
    if row.status is not ProposalStatus.proposed or entry.status is not QueueStatus.draft_created:
        raise InvalidTransition(f"this proposal is {row.status.value} and its entry {entry.status.value}: "
                                "only open proposals can be changed")
    return row, entry


def edit_proposal(uow: UnitOfWork, *, actor: Actor, proposal_id: int, subject: str, body: str) -> ProposalView:
    """Save the rep's version; original_subject/original_body keep what the model wrote."""
    require(actor, RESOURCE, UPDATE)
    if not subject.strip() or not body.strip():
        raise ValidationFailed("a proposal needs a subject and a body")
    with uow:
        row, entry = _open_proposal(uow, actor, proposal_id)
        row.subject, row.body = subject.strip()[:500], body
        row.edited = (row.subject, row.body) != (row.original_subject, row.original_body)
        row.score = calculate_personalization_score(row, entry.contact).score
        audit.record(uow.session, actor, "update", "queue_proposal", row.id, audit.changes_of(row))
        uow.session.flush()
        view = ProposalView.model_validate(row)
        uow.commit()
    return view


def reject_proposal(uow: UnitOfWork, *, actor: Actor, proposal_id: int, reason: str) -> ProposalView:
    """Reject one variant; when every variant is rejected the entry goes back to ready for new ones."""
    require(actor, RESOURCE, UPDATE)
    if not reason.strip():
        raise ValidationFailed("rejecting a proposal needs a reason")
    with uow:
        row, entry = _open_proposal(uow, actor, proposal_id)
        row.status, row.rejection_reason = ProposalStatus.rejected, reason.strip()[:500]
        audit.record(uow.session, actor, "update", "queue_proposal", row.id,
                     {"status": "rejected", "reason": row.rejection_reason})
        if all(p.status is ProposalStatus.rejected for p in entry.proposals):
            move(uow.session, entry, QueueStatus.ready, now=utcnow(), reason="every proposal was rejected")
        uow.session.flush()
        view = ProposalView.model_validate(row)
        uow.commit()
    return view


def approve_proposal(services: Services, *, actor: Actor, proposal_id: int) -> ApprovalResult:
    """Select this variant: create and approve its draft, and queue it for sending when a mailbox exists."""
    require(actor, RESOURCE, UPDATE)
    require(actor, "drafts", CREATE)
    require(actor, "drafts", UPDATE)
    with services.uow() as uow:
        row, entry = _open_proposal(uow, actor, proposal_id)
        data = DraftInput(contact_id=entry.contact_id, subject=row.subject, body=row.body,
                          campaign_id=entry.campaign_id)
        entry_id = entry.id
    draft = drafts.create_draft(services.uow(), actor=actor, data=data)
    try:
        _select(services, actor, proposal_id, entry_id, draft.id)
    except SalesAgentError:  # another approval won the race: withdraw our draft, theirs stands
        drafts.transition_draft(services.uow(), actor=actor, draft_id=draft.id, to=DraftStatus.rejected,
                                reason="another proposal of this queue entry was approved first")
        raise
    drafts.transition_draft(services.uow(), actor=actor, draft_id=draft.id, to=DraftStatus.approved)
    ledger_id, why_not = None, None
    try:
        queued = ledger.queue_approved_draft_for_sending(services.uow(), actor=actor, draft_id=draft.id)
        ledger_id = queued.id
        _link_ledger(services, entry_id, ledger_id)
    except (ValidationFailed, InvalidTransition) as exc:  # no mailbox connected yet: the draft waits, approved
        why_not = exc.message
    return ApprovalResult(entry_id=entry_id, proposal_id=proposal_id, draft_id=draft.id,
                          send_ledger_id=ledger_id, not_queued_reason=why_not)


def _select(services: Services, actor: Actor, proposal_id: int, entry_id: int, draft_id: int) -> None:
    with services.uow() as uow:
        row, entry = _open_proposal(uow, actor, proposal_id)
        move(uow.session, entry, QueueStatus.approved, now=services.clock())
        row.status, row.draft_id, entry.draft_id = ProposalStatus.selected, draft_id, draft_id
        audit.record(uow.session, actor, "update", "queue_entry", entry_id,
                     {"status": "approved", "proposal_id": proposal_id, "draft_id": draft_id,
                      "edited": row.edited})
        uow.commit()


def _link_ledger(services: Services, entry_id: int, ledger_id: int) -> None:
    with services.uow() as uow:
        entry = load_entry(uow.session, entry_id)
        entry.send_ledger_id = ledger_id
        uow.commit()


def mark_sent_entries(uow: UnitOfWork, *, actor: Actor, entry_ids: list[int] | None = None) -> list[EntryView]:
    """Approved entries whose draft has gone out move to sent (called after sending and by the sweeper)."""
    require(actor, RESOURCE, UPDATE)
    with uow:
        query = (select(QueueEntry).join(Draft, Draft.id == QueueEntry.draft_id)
                 .where(QueueEntry.status == QueueStatus.approved, Draft.status == DraftStatus.sent))
        if entry_ids is not None:
            query = query.where(QueueEntry.id.in_(entry_ids))
        moved = []
        for entry in uow.session.scalars(query.limit(1000)).all():
            sent_at = uow.session.scalar(select(SendLedgerEntry.sent_at).where(
                SendLedgerEntry.draft_id == entry.draft_id, SendLedgerEntry.status == SendStatus.sent))
            move(uow.session, entry, QueueStatus.sent, now=sent_at or utcnow())
            audit.record(uow.session, actor, "update", "queue_entry", entry.id, {"status": "sent"})
            moved.append(entry_view(load_entry(uow.session, entry.id)))
        uow.commit()
    return moved
