"""Draft use cases: created by hand or from a template version, moved only along allowed transitions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.models import User
from core.auth.permissions import CREATE, READ, UPDATE, require
from core.campaigns.models import Campaign
from core.content.models import DRAFT_TRANSITIONS, Draft, DraftStatus, EmailTemplate, TemplateVersion
from core.content.schemas import DraftInput, DraftView
from core.content.service import render_for_contact, validate_template
from core.crm.models import Contact
from core.db import utcnow
from core.errors import InvalidTransition, NotFound, ValidationFailed
from core.uow import UnitOfWork

EDITABLE = frozenset({DraftStatus.draft, DraftStatus.pending_approval, DraftStatus.rejected})


def _load(uow: UnitOfWork, draft_id: int) -> Draft:
    draft = uow.session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"draft {draft_id} not found")
    return draft


def _contact(uow: UnitOfWork, contact_id: int) -> Contact:
    contact = uow.session.get(Contact, contact_id, options=[selectinload(Contact.company)])
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


def create_draft(uow: UnitOfWork, *, actor: Actor, data: DraftInput) -> DraftView:
    require(actor, "drafts", CREATE)
    if not data.subject.strip() or not data.body.strip():
        raise ValidationFailed("a draft needs a subject and a body")
    with uow:
        contact = _contact(uow, data.contact_id)
        draft = Draft(to_email=contact.email, subject=data.subject.strip(), body=data.body,
                      contact_id=contact.id, template_version_id=data.template_version_id,
                      campaign_id=data.campaign_id, created_by_id=actor.user_id)
        uow.session.add(draft)
        uow.session.flush()
        audit.record(uow.session, actor, "create", "draft", draft.id, audit.snapshot_of(draft))
        view = DraftView.model_validate(draft)
        uow.commit()
    return view


def create_draft_from_template(
    uow: UnitOfWork, *, actor: Actor, template_id: int, contact_id: int, campaign_id: int | None = None,
) -> DraftView:
    """Render the template's newest version for the contact; the draft remembers that version."""
    require(actor, "drafts", CREATE)
    with uow:
        session = uow.session
        version = session.scalar(select(TemplateVersion).where(TemplateVersion.template_id == template_id)
                                 .order_by(TemplateVersion.version.desc()).limit(1))
        if version is None or session.get(EmailTemplate, template_id) is None:
            raise NotFound(f"template {template_id} not found")
        validate_template(session, version.subject, version.body)
        contact = _contact(uow, contact_id)
        campaign = session.get(Campaign, campaign_id) if campaign_id is not None else None
        if campaign_id is not None and campaign is None:
            raise NotFound(f"campaign {campaign_id} not found")
        sender = session.get(User, actor.user_id) if actor.user_id is not None else None
        rendered = render_for_contact(session, subject=version.subject, body=version.body, contact=contact,
                                      sender=sender, campaign=campaign)
        draft = Draft(to_email=contact.email, subject=rendered.subject, body=rendered.body,
                      contact_id=contact.id, template_version_id=version.id, campaign_id=campaign_id,
                      created_by_id=actor.user_id)
        session.add(draft)
        session.flush()
        audit.record(session, actor, "create", "draft", draft.id,
                     {"template_version_id": version.id, "contact_id": contact.id})
        view = DraftView.model_validate(draft)
        uow.commit()
    return view


def edit_draft(uow: UnitOfWork, *, actor: Actor, draft_id: int, subject: str, body: str) -> DraftView:
    require(actor, "drafts", UPDATE)
    with uow:
        draft = _load(uow, draft_id)
        if draft.status not in EDITABLE:
            raise InvalidTransition(f"a draft that is {draft.status.value} can no longer be edited")
        draft.subject, draft.body = subject.strip(), body
        audit.record(uow.session, actor, "update", "draft", draft.id, audit.changes_of(draft))
        uow.session.flush()
        view = DraftView.model_validate(draft)
        uow.commit()
    return view


def transition_draft(
    uow: UnitOfWork, *, actor: Actor, draft_id: int, to: DraftStatus, reason: str | None = None,
    scheduled_at: datetime | None = None,
) -> DraftView:
    """Move a draft to ``to`` if DRAFT_TRANSITIONS allows it; anything else is InvalidTransition."""
    require(actor, "drafts", UPDATE)
    with uow:
        draft = _load(uow, draft_id)
        if to not in DRAFT_TRANSITIONS[draft.status]:
            allowed = ", ".join(sorted(s.value for s in DRAFT_TRANSITIONS[draft.status])) or "nothing"
            raise InvalidTransition(
                f"a draft cannot go from {draft.status.value} to {to.value} (allowed: {allowed})")
        if to is DraftStatus.rejected and not (reason and reason.strip()):
            raise ValidationFailed("rejecting a draft needs a reason")
        if to is DraftStatus.scheduled:
            if scheduled_at is None or scheduled_at.tzinfo is None:
                raise ValidationFailed("scheduling needs a time with a time zone")
            if scheduled_at <= utcnow():
                raise ValidationFailed("the scheduled time is in the past")
            draft.scheduled_at = scheduled_at
        if to is DraftStatus.approved:
            draft.approved_by_id = actor.user_id
            draft.scheduled_at = None
        if to is DraftStatus.rejected:
            draft.rejection_reason = reason
        if to is DraftStatus.sent:
            draft.sent_at = utcnow()
        draft.status = to
        audit.record(uow.session, actor, "update", "draft", draft.id, audit.changes_of(draft))
        uow.session.flush()
        view = DraftView.model_validate(draft)
        uow.commit()
    return view


def list_drafts(
    uow: UnitOfWork, *, actor: Actor, status: DraftStatus | None = None, contact_id: int | None = None,
    limit: int = 200,
) -> list[DraftView]:
    require(actor, "drafts", READ)
    with uow:
        query = select(Draft).order_by(Draft.updated_at.desc(), Draft.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Draft.status == status)
        if contact_id is not None:
            query = query.where(Draft.contact_id == contact_id)
        return [DraftView.model_validate(d) for d in uow.session.scalars(query)]
