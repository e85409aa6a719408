"""Contact use cases. A contact is unique by normalised email: creating an existing one merges."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, DELETE, READ, UPDATE, require, require_owner
from core.crm.companies import get_or_create_company, get_or_create_company_for_email
from core.crm.emails import normalize_email
from core.crm.enrichment import calculate_enrichment_score
from core.crm.models import Company, Contact, LifecycleStage, Suppression, SuppressionReason
from core.crm.schemas import ContactInput, ContactUpdate, ContactView, Page
from core.errors import Conflict, NotFound
from core.uow import UnitOfWork


def _suppressions(session: Session, email: str) -> list[SuppressionReason]:
    return list(session.scalars(select(Suppression.reason).where(Suppression.email == email)).all())


def _view(session: Session, contact: Contact, *, merged: bool = False) -> ContactView:
    view = ContactView.model_validate(contact)
    return view.model_copy(update={"suppressed": _suppressions(session, contact.email), "merged": merged})


def _load(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id, options=[selectinload(Contact.company)])
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


def _apply(session: Session, actor: Actor, contact: Contact, data: ContactInput, *, only_missing: bool) -> None:
    fields = data.model_dump(exclude={"email", "company_domain", "company_name"}, exclude_none=True)
    for name, value in fields.items():
        if only_missing and getattr(contact, name) not in (None, "", [], LifecycleStage.prospect):
            continue
        setattr(contact, name, value)
    if data.company_domain:
        contact.company = get_or_create_company(session, actor, data.company_domain, data.company_name)
    elif contact.company_id is None and contact.company is None:
        contact.company = get_or_create_company_for_email(session, actor, contact.email)


def create_contact(uow: UnitOfWork, *, actor: Actor, data: ContactInput) -> ContactView:
    """Create a contact, or merge into the existing one with the same address (fills its gaps)."""
    require(actor, "contacts", CREATE)
    email = normalize_email(data.email)
    with uow:
        session = uow.session
        contact = session.scalar(
            select(Contact).options(selectinload(Contact.company)).where(Contact.email == email)
        )
        merged = contact is not None
        if contact is None:
            contact = Contact(email=email, created_by_id=actor.user_id, owner_id=data.owner_id or actor.user_id,
                              technologies=[])
            session.add(contact)
        _apply(session, actor, contact, data, only_missing=merged)
        contact.enrichment_score = calculate_enrichment_score(contact)
        diff = audit.changes_of(contact)
        session.flush()
        audit.record(session, actor, "merge" if merged else "create", "contact", contact.id, diff)
        view = _view(session, contact, merged=merged)
        uow.commit()
    return view


def update_contact(uow: UnitOfWork, *, actor: Actor, contact_id: int, changes: ContactUpdate) -> ContactView:
    require(actor, "contacts", UPDATE)
    with uow:
        session = uow.session
        contact = _load(session, contact_id)
        require_owner(actor, "contacts", contact.owner_id)
        values = changes.model_dump(exclude_unset=True)
        if "email" in values:
            new_email = normalize_email(values.pop("email"))
            clash = session.scalar(select(Contact.id).where(Contact.email == new_email, Contact.id != contact.id))
            if clash is not None:
                raise Conflict(f"another contact (id {clash}) already uses {new_email}")
            contact.email = new_email
        if "company_id" in values:
            company_id = values.pop("company_id")
            company = None if company_id is None else session.get(Company, company_id)
            if company_id is not None and company is None:
                raise NotFound(f"company {company_id} not found")
            contact.company = company
        for name, value in values.items():
            setattr(contact, name, value)
        contact.enrichment_score = calculate_enrichment_score(contact)
        diff = audit.changes_of(contact)
        session.flush()
        audit.record(session, actor, "update", "contact", contact.id, diff)
        view = _view(session, contact)
        uow.commit()
    return view


def delete_contact(uow: UnitOfWork, *, actor: Actor, contact_id: int) -> None:
    require(actor, "contacts", DELETE)
    with uow:
        contact = _load(uow.session, contact_id)
        require_owner(actor, "contacts", contact.owner_id)
        snapshot = audit.snapshot_of(contact)
        uow.session.delete(contact)
        audit.record(uow.session, actor, "delete", "contact", contact_id, snapshot)
        uow.commit()


def get_contact(uow: UnitOfWork, *, actor: Actor, contact_id: int) -> ContactView:
    require(actor, "contacts", READ)
    with uow:
        return _view(uow.session, _load(uow.session, contact_id))


def find_contact_by_email(uow: UnitOfWork, *, actor: Actor, email: str) -> ContactView | None:
    require(actor, "contacts", READ)
    with uow:
        contact = uow.session.scalar(
            select(Contact).options(selectinload(Contact.company))
            .where(Contact.email == email.strip().lower())
        )
        return None if contact is None else _view(uow.session, contact)


def list_contacts(
    uow: UnitOfWork, *, actor: Actor, search: str | None = None, stage: LifecycleStage | None = None,
    company_id: int | None = None, owner_id: int | None = None, limit: int = 50, offset: int = 0,
) -> Page[ContactView]:
    require(actor, "contacts", READ)
    limit = max(1, min(limit, 1000))
    with uow:
        query = select(Contact)
        if search:
            pattern = f"%{search.strip().lower()}%"
            query = query.where(or_(
                Contact.email.like(pattern),
                func.lower(Contact.first_name).like(pattern),
                func.lower(Contact.last_name).like(pattern),
                func.lower(Contact.title).like(pattern),
            ))
        if stage is not None:
            query = query.where(Contact.lifecycle_stage == stage)
        if company_id is not None:
            query = query.where(Contact.company_id == company_id)
        if owner_id is not None:
            query = query.where(Contact.owner_id == owner_id)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.options(selectinload(Contact.company)).order_by(Contact.id).limit(limit).offset(offset)
        ).all()
        suppressed = _suppressed_emails(uow.session, [c.email for c in rows])
        items = [
            ContactView.model_validate(c).model_copy(update={"suppressed": suppressed.get(c.email, [])})
            for c in rows
        ]
        return Page[ContactView](items=items, total=total, limit=limit, offset=offset)


def _suppressed_emails(session: Session, emails: list[str]) -> dict[str, list[SuppressionReason]]:
    out: dict[str, list[SuppressionReason]] = {}
    if emails:
        for email, reason in session.execute(
            select(Suppression.email, Suppression.reason).where(Suppression.email.in_(emails))
        ):
            out.setdefault(email, []).append(reason)
    return out


def suppress_email(
    uow: UnitOfWork, *, actor: Actor, email: str, reason: SuppressionReason, detail: str | None = None,
) -> bool:
    """Add an address to the suppression list; True when it was not already there for that reason."""
    require(actor, "contacts", UPDATE)
    email = normalize_email(email)
    with uow:
        exists = uow.session.scalar(
            select(Suppression.id).where(Suppression.email == email, Suppression.reason == reason)
        )
        if exists is not None:
            return False
        uow.session.add(Suppression(email=email, reason=reason, detail=detail, created_by_id=actor.user_id))
        audit.record(uow.session, actor, "create", "suppression", email, {"reason": reason, "detail": detail})
        uow.commit()
    return True


def is_suppressed(uow: UnitOfWork, *, actor: Actor, email: str) -> bool:
    require(actor, "contacts", READ)
    with uow:
        return bool(_suppressions(uow.session, email.strip().lower()))
