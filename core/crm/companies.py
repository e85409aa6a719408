"""Company use cases: create, update, hierarchy (cycles refused), lookup by domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, READ, UPDATE, require
from core.crm.emails import company_domain_for, normalize_domain
from core.crm.enrichment import rescore_contacts_of_companies
from core.crm.models import Company
from core.crm.schemas import CompanyInput, CompanyUpdate, CompanyView, Page
from core.errors import Conflict, NotFound, ValidationFailed
from core.uow import UnitOfWork


def company_name_from_domain(domain: str) -> str:
    return domain.split(".")[0].replace("-", " ").title()


def get_or_create_company_for_email(session: Session, actor: Actor, email: str) -> Company | None:
    """The contact's employer, found or created from the email domain; None for free mail."""
    domain = company_domain_for(email)
    if domain is None:
        return None
    return get_or_create_company(session, actor, domain)


def get_or_create_company(session: Session, actor: Actor, domain: str, name: str | None = None) -> Company:
    domain = normalize_domain(domain)
    company = session.scalar(select(Company).where(Company.domain == domain))
    if company is None:
        company = Company(domain=domain, name=name or company_name_from_domain(domain), created_by_id=actor.user_id)
        session.add(company)
        session.flush()
        audit.record(session, actor, "create", "company", company.id, audit.snapshot_of(company))
    return company


def _load(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(f"company {company_id} not found")
    return company


def _check_no_cycle(session: Session, company: Company, parent_id: int | None) -> None:
    seen = {company.id}
    current = parent_id
    while current is not None:
        if current in seen:
            raise Conflict("a company cannot be its own ancestor (hierarchy cycle refused)")
        seen.add(current)
        current = session.scalar(select(Company.parent_id).where(Company.id == current))


def create_company(uow: UnitOfWork, *, actor: Actor, data: CompanyInput) -> CompanyView:
    require(actor, "companies", CREATE)
    with uow:
        domain = normalize_domain(data.domain)
        if uow.session.scalar(select(Company.id).where(Company.domain == domain)) is not None:
            raise Conflict(f"a company with domain {domain} already exists")
        if data.parent_id is not None:
            _load(uow.session, data.parent_id)
        fields = data.model_dump(exclude={"domain", "name"}, exclude_none=True)
        company = Company(domain=domain, name=data.name or company_name_from_domain(domain),
                          created_by_id=actor.user_id, **fields)
        uow.session.add(company)
        uow.session.flush()
        audit.record(uow.session, actor, "create", "company", company.id, audit.snapshot_of(company))
        view = CompanyView.model_validate(company)
        uow.commit()
    return view


def update_company(uow: UnitOfWork, *, actor: Actor, company_id: int, changes: CompanyUpdate) -> CompanyView:
    """Change the fields set in ``changes`` (None clears one; a cleared name comes back from the domain).

    The domain stays present and unique.
    """
    require(actor, "companies", UPDATE)
    given = changes.model_dump(exclude_unset=True)
    if "domain" in given and not given["domain"]:
        raise ValidationFailed("a company's domain cannot be removed")
    with uow:
        company = _load(uow.session, company_id)
        for field, value in given.items():
            if field == "domain":
                value = normalize_domain(str(value))
                taken = uow.session.scalar(select(Company.id).where(Company.domain == value, Company.id != company.id))
                if taken is not None:
                    raise Conflict(f"a company with domain {value} already exists")
            if field == "parent_id":
                if value is not None:
                    _load(uow.session, int(value))
                _check_no_cycle(uow.session, company, value)
            setattr(company, field, value)
        if "name" in given and not given["name"]:  # a cleared name falls back to the one the domain suggests
            company.name = company_name_from_domain(company.domain)
        diff = audit.changes_of(company)
        uow.session.flush()
        if {"industry", "size"} & set(diff):  # the contacts' scores count their company's industry and size
            rescore_contacts_of_companies(uow.session, [company.id])
        audit.record(uow.session, actor, "update", "company", company.id, diff)
        view = CompanyView.model_validate(company)
        uow.commit()
    return view


def set_parent_company(uow: UnitOfWork, *, actor: Actor, company_id: int, parent_id: int | None) -> CompanyView:
    require(actor, "companies", UPDATE)
    return update_company(uow, actor=actor, company_id=company_id, changes=CompanyUpdate(parent_id=parent_id))


def get_company(uow: UnitOfWork, *, actor: Actor, company_id: int) -> CompanyView:
    require(actor, "companies", READ)
    with uow:
        return CompanyView.model_validate(_load(uow.session, company_id))


def find_company_by_domain(uow: UnitOfWork, *, actor: Actor, domain: str) -> CompanyView | None:
    require(actor, "companies", READ)
    with uow:
        company = uow.session.scalar(select(Company).where(Company.domain == normalize_domain(domain)))
        return None if company is None else CompanyView.model_validate(company)


def subsidiaries(uow: UnitOfWork, *, actor: Actor, parent_id: int, recursive: bool = False) -> list[CompanyView]:
    """Direct children of a company, or its whole subtree when recursive (ordered by depth, name)."""
    require(actor, "companies", READ)
    with uow:
        _load(uow.session, parent_id)
        result: list[CompanyView] = []
        frontier = [parent_id]
        while frontier:
            children = uow.session.scalars(
                select(Company).where(Company.parent_id.in_(frontier)).order_by(Company.name)
            ).all()
            result.extend(CompanyView.model_validate(c) for c in children)
            frontier = [c.id for c in children] if recursive else []
        return result


def company_ancestors(uow: UnitOfWork, *, actor: Actor, company_id: int) -> list[CompanyView]:
    """Parent, grandparent, … up to the root."""
    require(actor, "companies", READ)
    with uow:
        chain: list[CompanyView] = []
        company = _load(uow.session, company_id)
        while company.parent is not None:
            company = company.parent
            chain.append(CompanyView.model_validate(company))
        return chain


def list_companies(
    uow: UnitOfWork, *, actor: Actor, search: str | None = None, industry: str | None = None,
    limit: int = 50, offset: int = 0,
) -> Page[CompanyView]:
    require(actor, "companies", READ)
    with uow:
        query = select(Company)
        if search:
            pattern = f"%{search.strip().lower()}%"
            query = query.where(func.lower(Company.name).like(pattern) | Company.domain.like(pattern))
        if industry:
            query = query.where(Company.industry == industry)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(query.order_by(Company.name).limit(limit).offset(offset)).all()
        return Page[CompanyView](items=[CompanyView.model_validate(c) for c in rows], total=total,
                                 limit=limit, offset=offset)
