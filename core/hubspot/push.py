"""Pushing our changes: which records differ from what HubSpot last agreed to, and remembering what was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from core.crm.models import Company, Contact
from core.db import utcnow
from core.hubspot.engine import SyncPlan, ms_of
from core.hubspot.mapping import MODELS, outgoing, value_hash
from core.hubspot.models import CrmLink, ObjectType
from core.integrations.base import CRMRecord


@dataclass(frozen=True)
class PendingPush:
    local_id: int
    hubspot_id: str | None
    claimed_updated_at: datetime
    properties: dict[str, str | None]


def claim_pushes(session: Session, plan: SyncPlan, *, limit: int = 500) -> list[PendingPush]:
    """Our records changed since they last agreed with HubSpot, with only the properties that differ."""
    model = MODELS[plan.object_type]
    rows = session.execute(
        select(model, CrmLink).outerjoin(CrmLink, (CrmLink.local_id == model.id)
                                         & (CrmLink.object_type == plan.object_type))
        .where((CrmLink.id.is_(None)) | (CrmLink.local_synced_at.is_(None))
               | (model.updated_at > CrmLink.local_synced_at))
        .order_by(model.id).limit(limit)
    ).all()
    out = []
    for row_obj, link in rows:
        obj = cast(Contact | Company, row_obj)
        agreed = (link.pushed_hashes or {}) if link is not None else {}
        props = {f.theirs: outgoing(f, obj) for f in plan.mapping if f.pushes()}
        if link is not None:
            props = {k: v for k, v in props.items() if agreed.get(k) != value_hash(v)}
        else:
            props = {k: v for k, v in props.items() if v is not None}
        out.append(PendingPush(obj.id, link.hubspot_id if link else None, obj.updated_at, props))
    return out


def record_pushes(session: Session, plan: SyncPlan, pushed: list[tuple[PendingPush, CRMRecord]]) -> None:
    """After HubSpot accepted them: remember the ids, the agreed values and when, so echoes are ignored."""
    links = {link.local_id: link for link in session.scalars(select(CrmLink).where(
        CrmLink.object_type == plan.object_type, CrmLink.local_id.in_([p.local_id for p, _ in pushed])))}
    now = utcnow()
    for pending, record in pushed:
        link = links.get(pending.local_id)
        if link is None:
            link = CrmLink(object_type=plan.object_type, local_id=pending.local_id, hubspot_id=record.id,
                           property_times={}, pushed_hashes={})
            session.add(link)
        times, agreed = dict(link.property_times or {}), dict(link.pushed_hashes or {})
        stamp = ms_of(record.updated_at)
        for name, value in pending.properties.items():
            agreed[name] = value_hash(value)
            times[name] = max(int(times.get(name, 0)), stamp)
        link.property_times, link.pushed_hashes = times, agreed
        link.local_synced_at = pending.claimed_updated_at
        link.last_pushed_at = now
    session.flush()


def company_pairs(session: Session, contact_ids: list[int]) -> list[tuple[str, str]]:
    """(HubSpot contact id, HubSpot company id) of these contacts whose company is linked too."""
    if not contact_ids:
        return []
    contact_link, company_link = aliased(CrmLink), aliased(CrmLink)
    rows = session.execute(
        select(contact_link.hubspot_id, company_link.hubspot_id)
        .select_from(Contact)
        .join(contact_link, (contact_link.local_id == Contact.id) & (contact_link.object_type == ObjectType.contact))
        .join(company_link, (company_link.local_id == Contact.company_id)
              & (company_link.object_type == ObjectType.company))
        .where(Contact.id.in_(contact_ids)))
    return [(contact, company) for contact, company in rows]
