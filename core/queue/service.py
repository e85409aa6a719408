"""Queue use cases: add (one, many), list, move along allowed transitions, remove, saved filters.

Research, proposals and approval live in core.queue.work and core.queue.review; metrics in core.queue.metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, DELETE, READ, UPDATE, require, require_owner
from core.campaigns.models import Campaign
from core.crm.emails import is_valid_email
from core.crm.models import Company, Contact
from core.db import utcnow
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.queue.models import (
    QUEUE_TRANSITIONS,
    QueueEntry,
    QueuePriority,
    QueueProposal,
    QueueStatus,
    QueueStatusChange,
    SavedQueueFilter,
)
from core.queue.schemas import (
    BulkInput,
    BulkResult,
    ContactFilter,
    EntryDetail,
    EntryInput,
    EntryPage,
    EntryView,
    ProposalView,
    QueueQuery,
    QueueSort,
    SavedFilterView,
    StatusChangeView,
)
from core.uow import UnitOfWork

RESOURCE = "queue"


# Shared by the queue's modules ----------------------------------------------------------------------

def load_entry(session: Session, entry_id: int) -> QueueEntry:
    entry = session.get(QueueEntry, entry_id, options=[selectinload(QueueEntry.contact).selectinload(Contact.company)])
    if entry is None:
        raise NotFound(f"queue entry {entry_id} not found")
    return entry


def move(session: Session, entry: QueueEntry, to: QueueStatus, *, now: datetime, reason: str | None = None) -> None:
    """Change status if QUEUE_TRANSITIONS allows it, closing the open history row and opening the next."""
    if to not in QUEUE_TRANSITIONS[entry.status]:
        allowed = ", ".join(sorted(s.value for s in QUEUE_TRANSITIONS[entry.status])) or "nothing"
        raise InvalidTransition(f"a queue entry cannot go from {entry.status.value} to {to.value} "
                                f"(allowed: {allowed})")
    open_row = session.scalar(select(QueueStatusChange).where(
        QueueStatusChange.entry_id == entry.id, QueueStatusChange.left_at.is_(None)))
    if open_row is not None:
        open_row.left_at = now
    session.add(QueueStatusChange(entry_id=entry.id, status=to, from_status=entry.status, entered_at=now,
                                  owner_id=entry.owner_id, reason=reason))
    entry.status, entry.status_changed_at = to, now
    entry.failure_reason = reason if to is QueueStatus.failed else None
    entry.active_contact_id = None if to is QueueStatus.sent else entry.contact_id


def entry_view(entry: QueueEntry, proposals: int | None = None) -> EntryView:
    contact = entry.contact
    return EntryView(
        id=entry.id, contact_id=entry.contact_id, contact_name=contact.full_name, contact_email=contact.email,
        company=contact.company.name if contact.company else None, status=entry.status,
        priority=QueuePriority(entry.priority), owner_id=entry.owner_id, campaign_id=entry.campaign_id,
        failure_reason=entry.failure_reason, draft_id=entry.draft_id, send_ledger_id=entry.send_ledger_id,
        has_research=entry.research is not None,
        proposals=len(entry.proposals) if proposals is None else proposals,
        status_changed_at=entry.status_changed_at, created_at=entry.created_at)


# Adding -----------------------------------------------------------------------------------------------

def _new_entry(session: Session, actor: Actor, contact_id: int, priority: QueuePriority, owner_id: int | None,
               campaign_id: int | None, now: datetime) -> QueueEntry:
    entry = QueueEntry(contact_id=contact_id, active_contact_id=contact_id, status=QueueStatus.pending,
                       status_changed_at=now, priority=int(priority), owner_id=owner_id,
                       campaign_id=campaign_id, created_by_id=actor.user_id)
    session.add(entry)
    session.flush()
    session.add(QueueStatusChange(entry_id=entry.id, status=QueueStatus.pending, entered_at=now, owner_id=owner_id))
    audit.record(session, actor, "create", "queue_entry", entry.id,
                 {"contact_id": contact_id, "priority": int(priority), "owner_id": owner_id})
    return entry


def _check_campaign(session: Session, campaign_id: int | None) -> None:
    if campaign_id is not None and session.get(Campaign, campaign_id) is None:
        raise NotFound(f"campaign {campaign_id} not found")


def _active_contacts(session: Session, contact_ids: Iterable[int]) -> set[int]:
    ids = list(contact_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        found |= set(session.scalars(select(QueueEntry.active_contact_id)
                                     .where(QueueEntry.active_contact_id.in_(ids[start:start + 900]))))
    return found


def add_to_queue(uow: UnitOfWork, *, actor: Actor, data: EntryInput, now: datetime | None = None) -> EntryView:
    require(actor, RESOURCE, CREATE)
    owner = data.owner_id if data.owner_id is not None else actor.user_id
    require_owner(actor, "queue entries", owner)
    with uow:
        session = uow.session
        if session.get(Contact, data.contact_id) is None:
            raise NotFound(f"contact {data.contact_id} not found")
        _check_campaign(session, data.campaign_id)
        if _active_contacts(session, [data.contact_id]):
            raise Conflict(f"contact {data.contact_id} is already in the queue")
        entry = _new_entry(session, actor, data.contact_id, data.priority, owner, data.campaign_id, now or utcnow())
        try:
            session.flush()
        except IntegrityError:  # added by someone else a moment ago
            raise Conflict(f"contact {data.contact_id} is already in the queue") from None
        view = entry_view(load_entry(session, entry.id), 0)
        uow.commit()
    return view


def add_bulk(uow: UnitOfWork, *, actor: Actor, data: BulkInput, now: datetime | None = None) -> BulkResult:
    """Queue every contact named by ids, a saved filter or emails; those already queued are reported."""
    require(actor, RESOURCE, CREATE)
    owner = data.owner_id if data.owner_id is not None else actor.user_id
    require_owner(actor, "queue entries", owner)
    if not (data.contact_ids or data.emails or data.saved_filter_id is not None):
        raise ValidationFailed("name contacts by id, by email or by a saved filter")
    now = now or utcnow()
    with uow:
        session = uow.session
        _check_campaign(session, data.campaign_id)
        wanted, not_found = _resolve_contacts(session, actor, data)
        active = _active_contacts(session, wanted)
        added = [_new_entry(session, actor, cid, data.priority, owner, data.campaign_id, now).id
                 for cid in wanted if cid not in active]
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("some of these contacts were queued by someone else meanwhile; try again") from None
        result = BulkResult(added=added, already_queued=[c for c in wanted if c in active], not_found=not_found)
        uow.commit()
    return result


def _resolve_contacts(session: Session, actor: Actor, data: BulkInput) -> tuple[list[int], list[str]]:
    ids = list(dict.fromkeys(data.contact_ids))
    known = set()
    for start in range(0, len(ids), 900):
        known |= set(session.scalars(select(Contact.id).where(Contact.id.in_(ids[start:start + 900]))))
    not_found = [str(i) for i in ids if i not in known]
    wanted = [i for i in ids if i in known]
    if data.saved_filter_id is not None:
        saved = session.get(SavedQueueFilter, data.saved_filter_id)
        if saved is None or saved.user_id != actor.user_id:
            raise NotFound(f"saved filter {data.saved_filter_id} not found")
        wanted += [int(i) for i in session.scalars(contact_filter_query(ContactFilter.model_validate(saved.filters)))]
    emails = list(dict.fromkeys(e.strip().lower() for e in data.emails if e.strip()))
    invalid = [e for e in emails if not is_valid_email(e)]
    emails = [e for e in emails if e not in invalid]
    by_email: dict[str, int] = {}
    for start in range(0, len(emails), 900):
        by_email.update({email: cid for email, cid in session.execute(
            select(Contact.email, Contact.id).where(Contact.email.in_(emails[start:start + 900])))})
    not_found += invalid + [e for e in emails if e not in by_email]
    wanted += [by_email[e] for e in emails if e in by_email]
    return list(dict.fromkeys(wanted)), not_found


def contact_filter_query(f: ContactFilter) -> Select[Any]:
    query = select(Contact.id).outerjoin(Company, Contact.company_id == Company.id)
    if f.search:
        pattern = f"%{f.search.strip().lower()}%"
        query = query.where(or_(Contact.email.like(pattern), func.lower(Contact.first_name).like(pattern),
                                func.lower(Contact.last_name).like(pattern), func.lower(Contact.title).like(pattern),
                                func.lower(Company.name).like(pattern)))
    if f.stage is not None:
        query = query.where(Contact.lifecycle_stage == f.stage)
    if f.company_id is not None:
        query = query.where(Contact.company_id == f.company_id)
    if f.owner_id is not None:
        query = query.where(Contact.owner_id == f.owner_id)
    if f.industry:
        query = query.where(or_(Contact.industry == f.industry, Company.industry == f.industry))
    return query.order_by(Contact.id).limit(f.limit)


# Reading ----------------------------------------------------------------------------------------------

_SORTS = {
    QueueSort.priority: (QueueEntry.priority.desc(), QueueEntry.created_at, QueueEntry.id),
    QueueSort.newest: (QueueEntry.created_at.desc(), QueueEntry.id.desc()),
    QueueSort.oldest: (QueueEntry.created_at, QueueEntry.id),
    QueueSort.status_changed: (QueueEntry.status_changed_at.desc(), QueueEntry.id.desc()),
    QueueSort.company: (Company.name, QueueEntry.id),
}


def list_queue(uow: UnitOfWork, *, actor: Actor, query: QueueQuery | None = None) -> EntryPage:
    """One page of entries with the filters and sort asked for, and the total matching."""
    require(actor, RESOURCE, READ)
    q = query or QueueQuery()
    with uow:
        session = uow.session
        stmt = (select(QueueEntry).join(Contact, QueueEntry.contact_id == Contact.id)
                .outerjoin(Company, Contact.company_id == Company.id))
        if q.status is not None:
            stmt = stmt.where(QueueEntry.status == q.status)
        if q.priority is not None:
            stmt = stmt.where(QueueEntry.priority == int(q.priority))
        if q.owner_id is not None:
            stmt = stmt.where(QueueEntry.owner_id == q.owner_id)
        if q.campaign_id is not None:
            stmt = stmt.where(QueueEntry.campaign_id == q.campaign_id)
        if q.company:
            pattern = f"%{q.company.strip().lower()}%"
            stmt = stmt.where(or_(func.lower(Company.name).like(pattern), Company.domain.like(pattern)))
        total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(QueueEntry.id).subquery()))
        rows = session.scalars(stmt.options(selectinload(QueueEntry.contact).selectinload(Contact.company))
                               .order_by(*_SORTS[q.sort]).limit(q.limit).offset(q.offset)).all()
        counts = _proposal_counts(session, [r.id for r in rows])
        items = [entry_view(r, counts.get(r.id, 0)) for r in rows]
        return EntryPage(items=items, total=total or 0, limit=q.limit, offset=q.offset)


def _proposal_counts(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    if not entry_ids:
        return {}
    rows = session.execute(select(QueueProposal.entry_id, func.count()).where(QueueProposal.entry_id.in_(entry_ids))
                           .group_by(QueueProposal.entry_id))
    return {entry_id: n for entry_id, n in rows}


def status_counts(uow: UnitOfWork, *, actor: Actor, owner_id: int | None = None) -> dict[str, int]:
    """Entries per status (every status present, zero when empty)."""
    require(actor, RESOURCE, READ)
    with uow:
        stmt = select(QueueEntry.status, func.count()).group_by(QueueEntry.status)
        if owner_id is not None:
            stmt = stmt.where(QueueEntry.owner_id == owner_id)
        found = {s.value: n for s, n in uow.session.execute(stmt)}
    return {s.value: found.get(s.value, 0) for s in QueueStatus}


def get_entry(uow: UnitOfWork, *, actor: Actor, entry_id: int) -> EntryDetail:
    """One entry with its research, proposals and status history."""
    require(actor, RESOURCE, READ)
    with uow:
        entry = load_entry(uow.session, entry_id)
        history = uow.session.scalars(select(QueueStatusChange).where(QueueStatusChange.entry_id == entry_id)
                                      .order_by(QueueStatusChange.entered_at, QueueStatusChange.id)).all()
        return EntryDetail(**entry_view(entry).model_dump(), research=entry.research,
                           proposal_list=[ProposalView.model_validate(p) for p in entry.proposals],
                           history=[StatusChangeView.model_validate(h) for h in history])


def find_entry_for_contact(uow: UnitOfWork, *, actor: Actor, contact_id: int) -> EntryView | None:
    require(actor, RESOURCE, READ)
    with uow:
        entry = uow.session.scalar(select(QueueEntry).where(QueueEntry.active_contact_id == contact_id))
        return None if entry is None else entry_view(load_entry(uow.session, entry.id))


# Changing ---------------------------------------------------------------------------------------------

def update_status(uow: UnitOfWork, *, actor: Actor, entry_id: int, status: QueueStatus, reason: str | None = None,
                  now: datetime | None = None) -> EntryView:
    """Move an entry by hand (skip, retry, mark failed); only QUEUE_TRANSITIONS are allowed."""
    require(actor, RESOURCE, UPDATE)
    if status is QueueStatus.failed and not (reason and reason.strip()):
        raise ValidationFailed("marking an entry failed needs a reason")
    with uow:
        entry = load_entry(uow.session, entry_id)
        require_owner(actor, "queue entries", entry.owner_id)
        before = entry.status
        move(uow.session, entry, status, now=now or utcnow(), reason=reason)
        audit.record(uow.session, actor, "update", "queue_entry", entry.id,
                     {"status": [before.value, status.value], "reason": reason})
        uow.session.flush()
        view = entry_view(entry)
        uow.commit()
    return view


def set_priority(uow: UnitOfWork, *, actor: Actor, entry_id: int, priority: QueuePriority) -> EntryView:
    require(actor, RESOURCE, UPDATE)
    with uow:
        entry = load_entry(uow.session, entry_id)
        require_owner(actor, "queue entries", entry.owner_id)
        entry.priority = int(priority)
        audit.record(uow.session, actor, "update", "queue_entry", entry.id, audit.changes_of(entry))
        uow.session.flush()
        view = entry_view(entry)
        uow.commit()
    return view


def remove_from_queue(uow: UnitOfWork, *, actor: Actor, entry_id: int) -> None:
    require(actor, RESOURCE, DELETE)
    with uow:
        entry = load_entry(uow.session, entry_id)
        require_owner(actor, "queue entries", entry.owner_id)
        snapshot = audit.snapshot_of(entry)
        snapshot.pop("research", None)  # derived and large; the audit keeps who removed whom
        uow.session.delete(entry)
        audit.record(uow.session, actor, "delete", "queue_entry", entry_id, snapshot)
        uow.commit()


# Saved filters ----------------------------------------------------------------------------------------

def save_filter(uow: UnitOfWork, *, actor: Actor, name: str, filters: ContactFilter) -> SavedFilterView:
    """Create or replace the actor's filter of that name."""
    require(actor, RESOURCE, CREATE)
    if actor.user_id is None:
        raise ValidationFailed("saved filters belong to a user")
    name = name.strip()
    if not name:
        raise ValidationFailed("a saved filter needs a name")
    with uow:
        row = uow.session.scalar(select(SavedQueueFilter).where(SavedQueueFilter.user_id == actor.user_id,
                                                                SavedQueueFilter.name == name))
        if row is None:
            row = SavedQueueFilter(user_id=actor.user_id, name=name)
            uow.session.add(row)
        row.filters = filters.model_dump(mode="json", exclude_defaults=True)
        uow.session.flush()
        audit.record(uow.session, actor, "update", "queue_saved_filter", row.id, {"name": name,
                                                                                  "filters": row.filters})
        view = SavedFilterView.model_validate(row)
        uow.commit()
    return view


def list_saved_filters(uow: UnitOfWork, *, actor: Actor) -> list[SavedFilterView]:
    require(actor, RESOURCE, READ)
    with uow:
        rows = uow.session.scalars(select(SavedQueueFilter).where(SavedQueueFilter.user_id == actor.user_id)
                                   .order_by(SavedQueueFilter.name))
        return [SavedFilterView.model_validate(r) for r in rows]


def delete_saved_filter(uow: UnitOfWork, *, actor: Actor, filter_id: int) -> None:
    require(actor, RESOURCE, DELETE)
    with uow:
        row = uow.session.get(SavedQueueFilter, filter_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFound(f"saved filter {filter_id} not found")
        uow.session.delete(row)
        audit.record(uow.session, actor, "delete", "queue_saved_filter", filter_id, {"name": row.name})
        uow.commit()


def matching_contacts(uow: UnitOfWork, *, actor: Actor, filters: ContactFilter) -> dict[int, str]:
    """id -> "Name <email>" of the contacts a search or saved filter names (what bulk add would queue)."""
    require(actor, "contacts", READ)
    with uow:
        ids = list(uow.session.scalars(contact_filter_query(filters)))
        if not ids:
            return {}
        rows = uow.session.scalars(select(Contact).where(Contact.id.in_(ids)).order_by(Contact.id))
        return {c.id: f"{c.full_name} <{c.email}>" for c in rows}
