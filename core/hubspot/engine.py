"""The sync engine inside one transaction: apply a batch of HubSpot changes to our records in bulk SQL.

Rules: records are matched on HubSpot ids (email/domain only to link a record the first time); a change
older than the newest value already applied for that property is stale and ignored, so webhook deliveries
may arrive shuffled and repeated; a value equal to what both sides last agreed on (our own push coming
back) changes nothing; a property changed on both sides goes to last-write-wins or the conflicts list.

A batch is read with a few SELECTs into plain rows and written back with executemany INSERT/UPDATEs: a full
import writes 100 records a page, and per-row ORM objects and flushes would cost more than HubSpot's quota.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.audit.models import AuditEntry
from core.auth.actor import Actor
from core.crm.enrichment import calculate_enrichment_score, rescore_contacts_of_companies
from core.crm.models import Contact
from core.db import utcnow
from core.hubspot import rows
from core.hubspot.mapping import (
    HUBSPOT_TYPE,
    KEY_FIELD,
    MODELS,
    FieldMap,
    incoming,
    outgoing,
    value_hash,
)
from core.hubspot.models import ConflictPolicy, ConflictStatus, CrmLink, HubSpotConflict, ObjectType
from core.integrations.base import CRMRecord

Changes = dict[str, tuple[str | None, int]]  # HubSpot property -> (value, epoch ms it was set)
# Columns that may not be emptied from HubSpot: a blank value there keeps ours.
REQUIRED = frozenset({"email", "domain", "name", "lifecycle_stage"})


def ms_of(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass
class SyncPlan:
    """What one sync run applies: the object type's mapping and policy, read once per run."""

    object_type: ObjectType
    mapping: list[FieldMap]
    policy: ConflictPolicy
    pull: bool = True
    push: bool = True

    @property
    def hubspot_type(self) -> str:
        return HUBSPOT_TYPE[self.object_type]

    def properties(self) -> list[str]:
        return [f.theirs for f in self.mapping]

    @cached_property
    def pulled(self) -> list[FieldMap]:
        return [f for f in self.mapping if f.pulls()]


@dataclass
class Applied:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (hubspot id, message)
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    company_links: list[tuple[int, int | None, int]] = field(default_factory=list)  # (contact, old, new company)

    @property
    def synced(self) -> int:
        return self.created + self.updated + self.unchanged


def snapshot_changes(record: CRMRecord) -> Changes:
    """Every property of a fetched record, stamped with the record's modification time."""
    stamp = ms_of(record.updated_at)
    return {name: (value, stamp) for name, value in record.properties.items()}


# Applying -------------------------------------------------------------------------------------------------

@dataclass
class _Writes:
    """What a batch writes, collected first and sent as one executemany per table."""

    new_objects: list[tuple[SimpleNamespace, SimpleNamespace]] = field(default_factory=list)  # (record, link)
    new_links: list[SimpleNamespace] = field(default_factory=list)  # links to records we already had
    link_updates: list[dict[str, Any]] = field(default_factory=list)
    local_updates: list[dict[str, Any]] = field(default_factory=list)
    dead_links: list[int] = field(default_factory=list)
    diffs: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def apply_changes(session: Session, actor: Actor, plan: SyncPlan, batch: dict[str, Changes], *,
                  audit_summary: dict[str, Any] | None = None,
                  companies: dict[str, list[str]] | None = None) -> Applied:
    """Apply HubSpot changes (hubspot id -> property changes) to our records; never commits.

    ``audit_summary`` (the full import) writes one audit row for the whole batch instead of one per record.
    ``companies`` (contact id -> associated company ids, v4) points our contacts at those companies.
    """
    result, writes, now = Applied(), _Writes(), utcnow()
    object_type, key_field = plan.object_type, KEY_FIELD[plan.object_type]
    model = MODELS[object_type]
    links = rows.links_for(session, object_type, list(batch))
    locals_ = rows.load_locals(session, object_type, model.id.in_([link.local_id for link in links.values()]))
    for hubspot_id, known in list(links.items()):
        if known.local_id not in locals_:  # deleted on our side: the link no longer points anywhere
            writes.dead_links.append(known.id)
            del links[hubspot_id]
    new_keys = {hid: incoming(key_field, changes.get(key_field.theirs, (None, 0))[0], None)
                for hid, changes in batch.items() if hid not in links}
    wanted = {k for k in new_keys.values() if k}
    holders = rows.load_locals(session, object_type, getattr(model, key_field.ours).in_(wanted)) if wanted else {}
    taken = set(session.scalars(select(CrmLink.local_id).where(
        CrmLink.object_type == object_type, CrmLink.local_id.in_(list(holders))))) if holders else set()
    by_key = {getattr(obj, key_field.ours): obj for obj in holders.values()}
    fresh_keys: set[str] = set()
    synced_fields = [f.ours for f in plan.mapping if f.pulls()]
    for hubspot_id, changes in batch.items():
        link = links.get(hubspot_id)
        created = False
        if link is None:
            key = new_keys.get(hubspot_id)
            holder = by_key.get(key) if key else None
            if not key or key in fresh_keys:
                result.errors.append((hubspot_id, f"no usable {key_field.theirs}: cannot create a "
                                                  f"{object_type.value}"))
                continue
            if holder is not None and holder.id in taken:
                result.errors.append((hubspot_id, f"{key} already belongs to {object_type.value} {holder.id}, "
                                                  "linked to another HubSpot record"))
                continue
            fresh_keys.add(key)
            created = holder is None
            obj = holder if holder is not None else rows.blank(actor, object_type, key, now)
            link = SimpleNamespace(id=None, local_id=obj.id, hubspot_id=hubspot_id, property_times={},
                                   pushed_hashes={}, local_synced_at=None)
        else:
            obj = locals_[link.local_id]
        was_clean = link.local_synced_at is not None and obj.updated_at <= link.local_synced_at
        before = {name: getattr(obj, name) for name in synced_fields}
        try:
            changed = _apply_one(session, plan, link, obj, changes, result)
        except _FieldClash as exc:
            result.errors.append((hubspot_id, str(exc)))
            continue
        link.last_pulled_at = now
        if changed or created:
            obj.updated_at = now
            if object_type is ObjectType.contact:
                obj.enrichment_score = calculate_enrichment_score(cast(Contact, obj))
        if created:
            link.local_synced_at = now
            writes.new_objects.append((obj, link))
            result.created += 1
            continue
        if changed:
            diff = {n: [audit.plain(before[n]), audit.plain(getattr(obj, n))] for n in synced_fields
                    if before[n] != getattr(obj, n)}
            writes.diffs.append((obj.id, diff))
            writes.local_updates.append(_update_row(object_type, obj, synced_fields))
            if was_clean:
                link.local_synced_at = now  # our write agrees with HubSpot: nothing to push back
            result.updated += 1
            result.updated_ids.append(obj.id)
        else:
            result.unchanged += 1
        if link.id is None:
            writes.new_links.append(link)
        else:
            writes.link_updates.append({"id": link.id, "property_times": link.property_times,
                                        "pushed_hashes": link.pushed_hashes, "last_pulled_at": now,
                                        "local_synced_at": link.local_synced_at})
    _write(session, plan, writes, result)
    if object_type is ObjectType.company and result.updated_ids:
        rescore_contacts_of_companies(session, result.updated_ids)  # their scores count industry and size
    if companies and object_type is ObjectType.contact:
        result.company_links = _link_companies(session, companies)
    _audit(session, actor, plan, writes, result, audit_summary)
    return result


def _link_companies(session: Session, companies: dict[str, list[str]]) -> list[tuple[int, int | None, int]]:
    """Our contacts take the company HubSpot associates them with, when we hold it (links are matched by id).

    An association missing in HubSpot clears nothing here: a company set on our side is kept and pushed.
    """
    wanted = {company for ids in companies.values() for company in ids}
    ours: dict[str, int] = {hubspot_id: local_id for hubspot_id, local_id in session.execute(
        select(CrmLink.hubspot_id, CrmLink.local_id).where(CrmLink.object_type == ObjectType.company,
                                                          CrmLink.hubspot_id.in_(wanted)))} if wanted else {}
    linked = session.execute(select(CrmLink.hubspot_id, Contact.id, Contact.company_id)
                           .join(Contact, Contact.id == CrmLink.local_id)
                           .where(CrmLink.object_type == ObjectType.contact, CrmLink.hubspot_id.in_(list(companies))))
    changes: list[tuple[int, int | None, int]] = []
    for hubspot_id, contact_id, current in linked:
        candidates = [ours[c] for c in companies[hubspot_id] if c in ours]
        if candidates and current not in candidates:
            changes.append((contact_id, current, candidates[0]))
    if not changes:
        return changes
    rows.update_many(session, rows.table(Contact), [{"id": c, "company_id": new} for c, _, new in changes])
    # The enrichment score counts a known company, so it is recomputed for the contacts that gained one.
    fresh = rows.load_locals(session, ObjectType.contact, Contact.id.in_([c for c, _, _ in changes]))
    rows.update_many(session, rows.table(Contact), [{"id": obj.id, "enrichment_score": calculate_enrichment_score(
        cast(Contact, obj))} for obj in fresh.values()])
    return changes


def _update_row(object_type: ObjectType, obj: SimpleNamespace, synced_fields: list[str]) -> dict[str, Any]:
    row = {name: getattr(obj, name) for name in synced_fields}
    row.update(id=obj.id, updated_at=obj.updated_at)
    if object_type is ObjectType.contact:
        row["enrichment_score"] = obj.enrichment_score
    return row


def _write(session: Session, plan: SyncPlan, writes: _Writes, result: Applied) -> None:
    object_type, model, now = plan.object_type, MODELS[plan.object_type], utcnow()
    if writes.dead_links:
        session.execute(delete(CrmLink).where(CrmLink.id.in_(writes.dead_links)))
    if writes.new_objects:
        new_rows = [rows.insert_row(object_type, obj) for obj, _ in writes.new_objects]
        key = KEY_FIELD[object_type].ours
        # Plain executemany, then the new ids by key: ordered RETURNING makes SQLite insert row by row.
        session.execute(rows.table(model).insert(), new_rows)
        column = getattr(model, key)
        found = session.execute(select(column, model.id).where(column.in_([row[key] for row in new_rows])))
        ids: dict[str, int] = {key_value: new_id for key_value, new_id in found}
        for obj, link in writes.new_objects:
            new_id = ids[getattr(obj, key)]
            obj.id = link.local_id = new_id
            result.created_ids.append(new_id)
            writes.new_links.append(link)
    if writes.local_updates:
        rows.update_many(session, rows.table(model), writes.local_updates)
    if writes.new_links:
        session.execute(rows.table(CrmLink).insert(),
                        [rows.link_row(object_type, link, now) for link in writes.new_links])
    if writes.link_updates:
        rows.update_many(session, rows.table(CrmLink), writes.link_updates)


def _audit(session: Session, actor: Actor, plan: SyncPlan, writes: _Writes, result: Applied,
           audit_summary: dict[str, Any] | None) -> None:
    """One row per batch (the full import) or one per record changed, inserted in one statement."""
    object_type, now = plan.object_type, utcnow()
    entries: list[dict[str, Any]] = []
    base = {"actor_id": actor.user_id, "actor_label": actor.label, "resource_type": object_type.value, "at": now}
    if audit_summary is not None:
        if result.created_ids or result.updated_ids or result.company_links:
            entries.append({**base, "action": "import_from_hubspot", "resource_id": None, "changes": audit.plain({
                **audit_summary, "created": result.created_ids, "updated": result.updated_ids,
                "unchanged": result.unchanged, "company_set": [[c, new] for c, _, new in result.company_links]})})
    else:
        synced = [f.ours for f in plan.mapping if f.pulls()]
        entries += [{**base, "action": "create", "resource_id": str(obj.id), "changes": audit.plain(
            {n: [None, getattr(obj, n)] for n in synced})} for obj, _ in writes.new_objects]
        entries += [{**base, "action": "sync_from_hubspot", "resource_id": str(local_id), "changes": diff}
                    for local_id, diff in writes.diffs]
        entries += [{**base, "action": "sync_from_hubspot", "resource_id": str(contact_id),
                     "changes": {"company_id": [old, new]}} for contact_id, old, new in result.company_links]
    if entries:
        session.execute(rows.table(AuditEntry).insert(), entries)


class _FieldClash(Exception):
    pass


def _apply_one(session: Session, plan: SyncPlan, link: SimpleNamespace, obj: SimpleNamespace, changes: Changes,
               result: Applied) -> bool:
    times: dict[str, Any] = dict(link.property_times or {})
    agreed: dict[str, Any] = dict(link.pushed_hashes or {})
    locally_dirty = link.local_synced_at is None or obj.updated_at > link.local_synced_at
    changed = False
    for fmap in plan.pulled:
        if fmap.theirs not in changes:
            continue
        value, stamp = changes[fmap.theirs]
        value = value or None
        if stamp <= int(times.get(fmap.theirs, 0)):
            continue  # stale: a newer value for this property was already applied
        times[fmap.theirs] = stamp
        incoming_hash = value_hash(value)
        last_agreed = agreed.get(fmap.theirs)
        if last_agreed == incoming_hash:
            continue  # our own push coming back, or a repeat of what we already hold
        current = getattr(obj, fmap.ours)
        # Only a property both sides once agreed on can have changed on ours (a new record has none).
        ours_out = outgoing(fmap, obj) if last_agreed is not None else None
        ours_changed = last_agreed is not None and value_hash(ours_out) != last_agreed
        if locally_dirty and ours_changed and ours_out != value:
            if plan.policy is ConflictPolicy.manual:
                _hold_conflict(session, plan, link, fmap, ours_out, value, stamp)
                result.conflicts += 1
                continue
            if ms_of(obj.updated_at) > stamp:
                continue  # ours is newer: last write wins, and the push will carry it to HubSpot
        new_value = incoming(fmap, value, current)
        agreed[fmap.theirs] = incoming_hash
        if new_value is None and fmap.ours in REQUIRED:
            continue
        if new_value != current:
            if fmap.ours == KEY_FIELD[plan.object_type].ours and obj.id is not None:
                _check_key_free(session, plan, obj, new_value)
            setattr(obj, fmap.ours, new_value)
            changed = True
    link.property_times = times
    link.pushed_hashes = agreed
    return changed


def _check_key_free(session: Session, plan: SyncPlan, obj: SimpleNamespace, value: Any) -> None:
    model = MODELS[plan.object_type]
    key = KEY_FIELD[plan.object_type].ours
    clash = session.scalar(select(model.id).where(getattr(model, key) == value, model.id != obj.id))
    if clash is not None:
        raise _FieldClash(f"{key} {value} already belongs to {plan.object_type} {clash}")


def _hold_conflict(session: Session, plan: SyncPlan, link: SimpleNamespace, fmap: FieldMap, ours: str | None,
                   theirs: str | None, stamp: int) -> None:
    open_one = session.scalar(select(HubSpotConflict).where(
        HubSpotConflict.object_type == plan.object_type, HubSpotConflict.local_id == link.local_id,
        HubSpotConflict.hubspot_property == fmap.theirs, HubSpotConflict.status == ConflictStatus.open))
    if open_one is not None:
        open_one.their_value, open_one.their_changed_at, open_one.our_value = theirs, at_ms(stamp), ours
        return
    session.add(HubSpotConflict(object_type=plan.object_type, local_id=link.local_id, hubspot_id=link.hubspot_id,
                                field=fmap.ours, hubspot_property=fmap.theirs, our_value=ours, their_value=theirs,
                                their_changed_at=at_ms(stamp)))
