"""Cached reads for the dashboard: every page reads through here, and every read goes through core.

Each function takes ``_services`` (not hashed) and the ``actor`` (hashed, so two users never share an
entry), caches one page or one aggregate for ``TTL`` seconds, and is registered under the areas whose
writes make it stale. After a write a page calls ``invalidate("contacts", ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

import streamlit as st

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.service import list_users
from core.campaigns import service as campaigns_service
from core.campaigns.models import CampaignStatus
from core.campaigns.schemas import CampaignView
from core.content import drafts as drafts_service
from core.content import service as content_service
from core.content.models import DraftStatus, TemplateCategory
from core.content.schemas import DraftView, RenderedEmail, SnippetView, TemplateVersionView, TemplateView
from core.crm import companies as companies_service
from core.crm import service as contacts_service
from core.crm import tasks as tasks_service
from core.crm.models import LifecycleStage, TaskPriority, TaskStatus, TaskType
from core.crm.schemas import CompanyView, ContactView, Page, TaskView
from core.errors import PermissionDenied
from core.ops.service import WorkerStatus, worker_status
from core.services import Services
from ui.caching import HASH_FUNCS

TTL = 45
CONTACTS_PER_PAGE = 50
COMPANIES_PER_PAGE = 50
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_REGISTRY: dict[str, list[Any]] = {}


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a listing (core's generic Page[...] does not pickle into st.cache_data)."""

    items: list[T]
    total: int

    @classmethod
    def of(cls, page: Page[T]) -> Listing[T]:
        return cls(items=list(page.items), total=page.total)


def _cached(*areas: str, ttl: int = TTL) -> Callable[[F], F]:
    """st.cache_data with a TTL, registered under the areas whose writes invalidate it."""

    def wrap(func: F) -> F:
        cached = st.cache_data(ttl=ttl, show_spinner=False, hash_funcs=HASH_FUNCS)(func)
        for area in (*areas, "all"):
            _REGISTRY.setdefault(area, []).append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def invalidate(*areas: str) -> None:
    """Clear the cached reads of these areas (and the overview, which counts everything)."""
    seen: set[int] = set()
    for area in (*areas, "overview"):
        for cached in _REGISTRY.get(area, []):
            if id(cached) not in seen:
                seen.add(id(cached))
                cached.clear()


# Users ---------------------------------------------------------------------------------------------

@_cached("users")
def user_names(_services: Services, actor: Actor) -> dict[int, str]:
    """id -> display name of the team, for owner and assignee pickers; just the actor for roles that
    may not list users."""
    try:
        return {u.id: (u.name or u.email) for u in list_users(_services.uow(), actor=actor)}
    except PermissionDenied:
        return {actor.user_id: actor.name or actor.email} if actor.user_id is not None else {}


# Overview ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OverviewCounts:
    contacts: int
    companies: int
    active_campaigns: int
    open_tasks: int
    drafts_awaiting_approval: int


@_cached("overview")
def overview_counts(_services: Services, actor: Actor) -> OverviewCounts:
    uow = _services.uow
    return OverviewCounts(
        contacts=contacts_service.list_contacts(uow(), actor=actor, limit=1).total,
        companies=companies_service.list_companies(uow(), actor=actor, limit=1).total,
        active_campaigns=len(campaigns_service.list_campaigns(uow(), actor=actor,
                                                              status=CampaignStatus.active)),
        open_tasks=len(tasks_service.list_tasks(uow(), actor=actor, limit=100_000)),
        drafts_awaiting_approval=len(drafts_service.list_drafts(
            uow(), actor=actor, status=DraftStatus.pending_approval, limit=100_000)),
    )


@_cached("overview")
def contacts_by_stage(_services: Services, actor: Actor) -> dict[str, int]:
    """Lifecycle stage -> number of contacts, in funnel order."""
    uow = _services.uow
    return {stage.value: contacts_service.list_contacts(uow(), actor=actor, stage=stage, limit=1).total
            for stage in LifecycleStage}


@_cached("overview", ttl=30)
def workers(_services: Services) -> WorkerStatus:
    return worker_status(_services.uow())


# Contacts ------------------------------------------------------------------------------------------

@_cached("contacts")
def contacts_page(
    _services: Services, actor: Actor, *, search: str | None = None, stage: LifecycleStage | None = None,
    company_id: int | None = None, owner_id: int | None = None, page: int = 1,
    per_page: int = CONTACTS_PER_PAGE,
) -> Listing[ContactView]:
    return Listing.of(contacts_service.list_contacts(
        _services.uow(), actor=actor, search=search or None, stage=stage, company_id=company_id,
        owner_id=owner_id, limit=per_page, offset=(max(page, 1) - 1) * per_page))


@_cached("contacts")
def contact_choices(_services: Services, actor: Actor, search: str, limit: int = 25) -> dict[int, str]:
    """id -> "Name <email>" for pickers, matching a search text."""
    found = contacts_service.list_contacts(_services.uow(), actor=actor, search=search or None, limit=limit)
    return {c.id: f"{c.full_name or c.email} <{c.email}>" for c in found.items}


@dataclass(frozen=True)
class ContactDetail:
    contact: ContactView
    ancestors: list[CompanyView] = field(default_factory=list)
    subsidiaries: list[CompanyView] = field(default_factory=list)
    tasks: list[TaskView] = field(default_factory=list)
    drafts: list[DraftView] = field(default_factory=list)


@_cached("contacts", "companies", "tasks")
def contact_detail(_services: Services, actor: Actor, contact_id: int) -> ContactDetail:
    uow = _services.uow
    contact = contacts_service.get_contact(uow(), actor=actor, contact_id=contact_id)
    ancestors: list[CompanyView] = []
    subs: list[CompanyView] = []
    if contact.company_id is not None:
        ancestors = companies_service.company_ancestors(uow(), actor=actor, company_id=contact.company_id)
        subs = companies_service.subsidiaries(uow(), actor=actor, parent_id=contact.company_id)
    return ContactDetail(
        contact=contact, ancestors=ancestors, subsidiaries=subs,
        tasks=tasks_service.list_tasks(uow(), actor=actor, contact_id=contact_id, include_complete=True),
        drafts=drafts_service.list_drafts(uow(), actor=actor, contact_id=contact_id, limit=50),
    )


@_cached("contacts", "companies", "campaigns", "templates", "tasks")
def history(_services: Services, actor: Actor, resource_type: str, resource_id: int) -> list[dict[str, Any]]:
    """Change history of one record, newest first: {at, actor_label, action, changes}."""
    return audit.history_for(_services.uow(), actor=actor, resource_type=resource_type,
                             resource_id=resource_id)


# Companies -----------------------------------------------------------------------------------------

@_cached("companies")
def company_choices(_services: Services, actor: Actor) -> dict[int, str]:
    """id -> name of every company, for filters and pickers (names only, capped)."""
    page = companies_service.list_companies(_services.uow(), actor=actor, limit=2000)
    return {c.id: c.name for c in page.items}


@_cached("companies")
def industries(_services: Services, actor: Actor) -> list[str]:
    page = companies_service.list_companies(_services.uow(), actor=actor, limit=2000)
    return sorted({c.industry for c in page.items if c.industry})


@_cached("companies")
def companies_page(
    _services: Services, actor: Actor, *, search: str | None = None, industry: str | None = None,
    page: int = 1, per_page: int = COMPANIES_PER_PAGE,
) -> Listing[CompanyView]:
    return Listing.of(companies_service.list_companies(
        _services.uow(), actor=actor, search=search or None, industry=industry or None, limit=per_page,
        offset=(max(page, 1) - 1) * per_page))


@dataclass(frozen=True)
class CompanyDetail:
    company: CompanyView
    ancestors: list[CompanyView]
    subtree: list[CompanyView]
    contacts: Listing[ContactView]


@_cached("companies", "contacts")
def company_detail(_services: Services, actor: Actor, company_id: int) -> CompanyDetail:
    uow = _services.uow
    return CompanyDetail(
        company=companies_service.get_company(uow(), actor=actor, company_id=company_id),
        ancestors=companies_service.company_ancestors(uow(), actor=actor, company_id=company_id),
        subtree=companies_service.subsidiaries(uow(), actor=actor, parent_id=company_id, recursive=True),
        contacts=Listing.of(contacts_service.list_contacts(uow(), actor=actor, company_id=company_id,
                                                           limit=200)),
    )


# Campaigns -----------------------------------------------------------------------------------------

@_cached("campaigns")
def campaigns(_services: Services, actor: Actor) -> list[CampaignView]:
    return campaigns_service.list_campaigns(_services.uow(), actor=actor)


# Templates and snippets ----------------------------------------------------------------------------

@_cached("templates")
def templates(
    _services: Services, actor: Actor, category: TemplateCategory | None = None,
) -> list[TemplateView]:
    return content_service.list_templates(_services.uow(), actor=actor, category=category)


@_cached("templates")
def template_versions(_services: Services, actor: Actor, template_id: int) -> list[TemplateVersionView]:
    return content_service.template_history(_services.uow(), actor=actor, template_id=template_id)


@_cached("snippets", "templates")
def snippets(_services: Services, actor: Actor) -> list[SnippetView]:
    return content_service.list_snippets(_services.uow(), actor=actor)


def preview(services: Services, actor: Actor, *, contact_id: int, subject: str, body: str) -> RenderedEmail:
    """Live preview of unsaved text: not cached, it changes on every keystroke; raises ValidationFailed."""
    return content_service.preview_template(services.uow(), actor=actor, contact_id=contact_id,
                                            subject=subject, body=body)


# Tasks ---------------------------------------------------------------------------------------------

@_cached("tasks")
def tasks(
    _services: Services, actor: Actor, *, assignee_id: int | None = None, status: TaskStatus | None = None,
    include_complete: bool = False, type: TaskType | None = None, priority: TaskPriority | None = None,
    limit: int = 200,
) -> list[TaskView]:
    """Open tasks first by due date; type and priority narrow the (at most ``limit``) rows core returns."""
    found = tasks_service.list_tasks(_services.uow(), actor=actor, assignee_id=assignee_id, status=status,
                                     include_complete=include_complete, limit=limit)
    return [t for t in found
            if (type is None or t.type is type) and (priority is None or t.priority is priority)]


@_cached("tasks")
def my_tasks_due(_services: Services, actor: Actor, days: int = 7) -> list[TaskView]:
    """The actor's open tasks that are overdue or due within ``days``."""
    horizon = _services.clock() + timedelta(days=days)
    return [t for t in tasks_service.my_tasks(_services.uow(), actor=actor)
            if t.due_at is not None and t.due_at <= horizon]
