"""Campaign use cases. Statistics are counted from member rows, never typed in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Integer, Select, cast, delete, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, DELETE, READ, UPDATE, require
from core.campaigns.models import Campaign, CampaignMember, CampaignStatus, campaign_templates
from core.campaigns.schemas import CampaignInput, CampaignStats, CampaignView
from core.content.models import EmailTemplate
from core.crm.models import Contact
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.uow import UnitOfWork

Engagement = Literal["sent", "opened", "clicked", "replied"]


def _counted(column: InstrumentedAttribute[datetime | None]) -> ColumnElement[int]:
    return func.sum(cast(column.is_not(None), Integer))


def _stats_query(campaign_ids: Sequence[int]) -> Select[int, int, int, int, int, int]:
    counted = _counted

    return (
        select(
            CampaignMember.campaign_id,
            func.count(),
            counted(CampaignMember.sent_at),
            counted(CampaignMember.opened_at),
            counted(CampaignMember.clicked_at),
            counted(CampaignMember.replied_at),
        )
        .where(CampaignMember.campaign_id.in_(campaign_ids))
        .group_by(CampaignMember.campaign_id)
    )


def _stats(session: Session, campaign_ids: Sequence[int]) -> dict[int, CampaignStats]:
    out = {cid: CampaignStats() for cid in campaign_ids}
    if campaign_ids:
        for cid, total, sent, opened, clicked, replied in session.execute(_stats_query(campaign_ids)):
            out[cid] = CampaignStats(total_contacts=total, sent=sent or 0, opened=opened or 0,
                                     clicked=clicked or 0, replied=replied or 0)
    return out


def _template_ids(session: Session, campaign_id: int) -> list[int]:
    return list(session.scalars(
        select(campaign_templates.c.template_id).where(campaign_templates.c.campaign_id == campaign_id)
        .order_by(campaign_templates.c.template_id)
    ))


def _view(session: Session, campaign: Campaign) -> CampaignView:
    return CampaignView.model_validate(campaign).model_copy(update={
        "stats": _stats(session, [campaign.id])[campaign.id],
        "template_ids": _template_ids(session, campaign.id),
    })


def _load(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def create_campaign(uow: UnitOfWork, *, actor: Actor, data: CampaignInput) -> CampaignView:
    require(actor, "campaigns", CREATE)
    with uow:
        if uow.session.scalar(select(Campaign.id).where(Campaign.name == data.name)) is not None:
            raise Conflict(f"a campaign named {data.name!r} already exists")
        campaign = Campaign(**data.model_dump(exclude={"owner_id"}), owner_id=data.owner_id or actor.user_id)
        uow.session.add(campaign)
        uow.session.flush()
        audit.record(uow.session, actor, "create", "campaign", campaign.id, audit.snapshot_of(campaign))
        view = _view(uow.session, campaign)
        uow.commit()
    return view


def set_campaign_status(uow: UnitOfWork, *, actor: Actor, campaign_id: int, status: CampaignStatus) -> CampaignView:
    require(actor, "campaigns", UPDATE)
    with uow:
        campaign = _load(uow.session, campaign_id)
        campaign.status = status
        audit.record(uow.session, actor, "update", "campaign", campaign.id, audit.changes_of(campaign))
        uow.session.flush()
        view = _view(uow.session, campaign)
        uow.commit()
    return view


def add_contacts(uow: UnitOfWork, *, actor: Actor, campaign_id: int, contact_ids: Iterable[int]) -> int:
    """Add contacts to a campaign; those already in it are left alone. Returns how many were added."""
    require(actor, "campaigns", UPDATE)
    wanted = sorted(set(contact_ids))
    with uow:
        session = uow.session
        _load(session, campaign_id)
        existing_contacts = set(session.scalars(select(Contact.id).where(Contact.id.in_(wanted))))
        missing = [cid for cid in wanted if cid not in existing_contacts]
        if missing:
            raise NotFound(f"contacts not found: {missing[:10]}")
        present = set(session.scalars(select(CampaignMember.contact_id).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.contact_id.in_(wanted))))
        new = [cid for cid in wanted if cid not in present]
        if new:
            now = utcnow()
            session.execute(insert(CampaignMember),
                            [{"campaign_id": campaign_id, "contact_id": cid, "added_at": now} for cid in new])
        audit.record(session, actor, "update", "campaign", campaign_id, {"contacts_added": new})
        uow.commit()
    return len(new)


def remove_contacts(uow: UnitOfWork, *, actor: Actor, campaign_id: int, contact_ids: Iterable[int]) -> int:
    require(actor, "campaigns", UPDATE)
    ids = sorted(set(contact_ids))
    with uow:
        _load(uow.session, campaign_id)
        result = uow.session.execute(delete(CampaignMember).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.contact_id.in_(ids)))
        audit.record(uow.session, actor, "update", "campaign", campaign_id, {"contacts_removed": ids})
        uow.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def attach_template(uow: UnitOfWork, *, actor: Actor, campaign_id: int, template_id: int) -> CampaignView:
    require(actor, "campaigns", UPDATE)
    with uow:
        campaign = _load(uow.session, campaign_id)
        if uow.session.get(EmailTemplate, template_id) is None:
            raise NotFound(f"template {template_id} not found")
        if template_id not in _template_ids(uow.session, campaign_id):
            uow.session.execute(insert(campaign_templates).values(campaign_id=campaign_id, template_id=template_id))
            audit.record(uow.session, actor, "update", "campaign", campaign_id, {"template_attached": template_id})
        view = _view(uow.session, campaign)
        uow.commit()
    return view


def record_engagement(
    uow: UnitOfWork, *, actor: Actor, campaign_id: int, contact_id: int, event: Engagement,
    at: datetime | None = None,
) -> None:
    """Stamp the first time a member was sent to, opened, clicked or replied (later ones don't move it)."""
    require(actor, "campaigns", UPDATE)
    if event not in ("sent", "opened", "clicked", "replied"):
        raise ValidationFailed(f"unknown engagement {event!r}")
    with uow:
        member = uow.session.get(CampaignMember, (campaign_id, contact_id))
        if member is None:
            raise NotFound(f"contact {contact_id} is not in campaign {campaign_id}")
        column = f"{event}_at"
        if getattr(member, column) is None:
            setattr(member, column, at or utcnow())
        uow.commit()


def get_campaign(uow: UnitOfWork, *, actor: Actor, campaign_id: int) -> CampaignView:
    require(actor, "campaigns", READ)
    with uow:
        return _view(uow.session, _load(uow.session, campaign_id))


def campaign_stats(uow: UnitOfWork, *, actor: Actor, campaign_id: int) -> CampaignStats:
    require(actor, "campaigns", READ)
    with uow:
        _load(uow.session, campaign_id)
        return _stats(uow.session, [campaign_id])[campaign_id]


def list_campaigns(uow: UnitOfWork, *, actor: Actor, status: CampaignStatus | None = None) -> list[CampaignView]:
    require(actor, "campaigns", READ)
    with uow:
        query = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.name)
        if status is not None:
            query = query.where(Campaign.status == status)
        campaigns = list(uow.session.scalars(query))
        stats = _stats(uow.session, [c.id for c in campaigns])
        return [CampaignView.model_validate(c).model_copy(update={
            "stats": stats[c.id], "template_ids": _template_ids(uow.session, c.id)}) for c in campaigns]


def campaign_contact_ids(uow: UnitOfWork, *, actor: Actor, campaign_id: int) -> list[int]:
    require(actor, "campaigns", READ)
    with uow:
        return list(uow.session.scalars(select(CampaignMember.contact_id)
                                        .where(CampaignMember.campaign_id == campaign_id)
                                        .order_by(CampaignMember.contact_id)))


def delete_campaign(uow: UnitOfWork, *, actor: Actor, campaign_id: int) -> None:
    require(actor, "campaigns", DELETE)
    with uow:
        campaign = _load(uow.session, campaign_id)
        snapshot = audit.snapshot_of(campaign)
        uow.session.delete(campaign)
        audit.record(uow.session, actor, "delete", "campaign", campaign_id, snapshot)
        uow.commit()
