"""Plain-row access for the sync engine: a batch is read with a few SELECTs into namespaces and written back
with one executemany per table (per-row ORM objects and flushes cost more than HubSpot's quota allows)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from core.auth.actor import Actor
from core.crm.models import Company, Contact, LifecycleStage
from core.hubspot.mapping import MODELS, SYNCABLE_FIELDS
from core.hubspot.models import CrmLink, ObjectType


def links_for(session: Session, object_type: ObjectType, hubspot_ids: list[str]) -> dict[str, SimpleNamespace]:
    if not hubspot_ids:
        return {}
    rows = session.execute(select(CrmLink.id, CrmLink.local_id, CrmLink.hubspot_id, CrmLink.property_times,
                                  CrmLink.pushed_hashes, CrmLink.local_synced_at)
                           .where(CrmLink.object_type == object_type, CrmLink.hubspot_id.in_(hubspot_ids)))
    return {row.hubspot_id: SimpleNamespace(**row._mapping) for row in rows}


def load_locals(session: Session, object_type: ObjectType, where: Any) -> dict[int, SimpleNamespace]:
    """Our records' synced columns (plus what the enrichment score reads) as plain namespaces, by id."""
    model = MODELS[object_type]
    names = ("id", "updated_at", *SYNCABLE_FIELDS[object_type])
    columns: list[Any] = [getattr(model, name) for name in names]
    if object_type is ObjectType.contact:
        columns += [Contact.company_id, Contact.technologies, Company.industry.label("_company_industry"),
                    Company.size.label("_company_size")]
        query = select(*columns).outerjoin(Company, Contact.company_id == Company.id).where(where)
    else:
        query = select(*columns).where(where)
    out: dict[int, SimpleNamespace] = {}
    for row in session.execute(query):
        data = dict(row._mapping)
        industry, size = data.pop("_company_industry", None), data.pop("_company_size", None)
        obj = SimpleNamespace(**data)
        if object_type is ObjectType.contact:
            obj.company = SimpleNamespace(industry=industry, size=size) if obj.company_id else None
        out[obj.id] = obj
    return out


def blank(actor: Actor, object_type: ObjectType, key: str, now: datetime) -> SimpleNamespace:
    """A record HubSpot has and we do not, before its values are applied (inserted at the end of the batch)."""
    values: dict[str, Any] = {name: None for name in SYNCABLE_FIELDS[object_type]}
    values.update(id=None, updated_at=now, created_at=now, created_by_id=actor.user_id)
    if object_type is ObjectType.contact:
        values.update(email=key, lifecycle_stage=LifecycleStage.prospect, technologies=[], company_id=None,
                      company=None, owner_id=None, data_source="HubSpot", enrichment_score=0)
    else:
        values.update(domain=key, name=key)
    return SimpleNamespace(**values)


def insert_row(object_type: ObjectType, obj: SimpleNamespace) -> dict[str, Any]:
    names = [*SYNCABLE_FIELDS[object_type], "created_at", "updated_at", "created_by_id"]
    if object_type is ObjectType.contact:
        names += ["technologies", "owner_id", "data_source", "enrichment_score"]
    return {name: getattr(obj, name) for name in names}


def table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def update_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE by id (Core, not the ORM bulk layer: it costs more than the SQL on a page)."""
    names = [name for name in rows[0] if name != "id"]
    statement = (table.update().where(table.c.id == bindparam("row_id"))
                 .values({name: bindparam(f"new_{name}") for name in names}))
    session.execute(statement, [{"row_id": row["id"], **{f"new_{n}": row[n] for n in names}} for row in rows])


def link_row(object_type: ObjectType, link: SimpleNamespace, now: datetime) -> dict[str, Any]:
    return {"object_type": object_type, "local_id": link.local_id, "hubspot_id": link.hubspot_id,
            "property_times": link.property_times, "pushed_hashes": link.pushed_hashes,
            "local_synced_at": link.local_synced_at, "last_pulled_at": now, "last_pushed_at": None}
