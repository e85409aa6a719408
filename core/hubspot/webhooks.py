"""HubSpot webhooks: v3 signature check, recording event ids once, and applying the events.

Signature v3 = base64(HMAC-SHA256(app secret, method + URI + raw body + timestamp)), where URI is the
public URL HubSpot called (we rebuild it from PUBLIC_BASE_URL, so a reverse proxy does not change it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import defaultdict
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select

from core.auth.actor import Actor
from core.auth.permissions import UPDATE, require
from core.db import utcnow
from core.hubspot.engine import Changes, SyncPlan, apply_changes, at_ms, snapshot_changes
from core.hubspot.models import CrmLink, HubSpotSyncJob, HubSpotWebhookEvent, JobKind, JobStatus, ObjectType
from core.hubspot.service import RESOURCE, plan_of, setting_row
from core.hubspot.sync import UowFactory, add_errors
from core.integrations.base import CRMConnector
from core.uow import UnitOfWork

MAX_AGE_MS = 5 * 60 * 1000
OBJECT_OF = {"contact": ObjectType.contact, "company": ObjectType.company}
HANDLED = {"contact.creation", "contact.propertyChange", "contact.deletion", "contact.merge",
           "company.creation", "company.propertyChange"}


def v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    # HubSpot signs the URI with these escapes decoded (its documented list); body bytes are used as sent.
    source = method.upper().encode() + unquote(uri).encode("utf-8") + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), source, hashlib.sha256).digest()).decode()


def verify_v3(secret: str, *, method: str, uri: str, body: bytes, timestamp: str | None, signature: str | None,
              now_ms: int) -> bool:
    """True only for a fresh (≤ 5 min) timestamp and a matching signature, compared in constant time."""
    if not secret or not signature or not timestamp or not timestamp.isdigit():
        return False
    if abs(now_ms - int(timestamp)) > MAX_AGE_MS:
        return False
    expected = v3_signature(secret, method, uri, body, timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode())


def parse_events(body: bytes) -> list[dict[str, Any]]:
    """The batch of events in a webhook body; ValueError when it is not one."""
    events = json.loads(body)
    if not isinstance(events, list) or not all(isinstance(e, dict) and "eventId" in e for e in events):
        raise ValueError("expected a JSON array of events")
    return events


def record_events(uow: UnitOfWork, events: list[dict[str, Any]]) -> list[int]:
    """Store events not seen before; returns the new ids (a redelivered event id is dropped here)."""
    ids = [int(e["eventId"]) for e in events]
    with uow:
        seen = set(uow.session.scalars(select(HubSpotWebhookEvent.event_id)
                                       .where(HubSpotWebhookEvent.event_id.in_(ids))))
        fresh = []
        for event in events:
            event_id = int(event["eventId"])
            if event_id in seen:
                continue
            seen.add(event_id)
            fresh.append(event_id)
            uow.session.add(HubSpotWebhookEvent(
                event_id=event_id, subscription_type=str(event.get("subscriptionType", ""))[:60],
                object_id=str(event.get("objectId", "")), occurred_at=at_ms(int(event.get("occurredAt", 0))),
                payload=event))
        uow.commit()
    return fresh


def process_events(uows: UowFactory, crm: CRMConnector | None, *, actor: Actor, event_ids: list[int]) -> int:
    """Apply stored, unprocessed events; idempotent (processed ones are skipped). Returns events applied."""
    require(actor, RESOURCE, UPDATE)
    with uows() as uow:
        rows = list(uow.session.scalars(select(HubSpotWebhookEvent).where(
            HubSpotWebhookEvent.event_id.in_(event_ids), HubSpotWebhookEvent.processed_at.is_(None))
            .order_by(HubSpotWebhookEvent.occurred_at, HubSpotWebhookEvent.event_id)))
        events = [dict(r.payload) for r in rows]
        plans = {t: plan_of(setting_row(uow.session, t)) for t in ObjectType}
        linked = {t: set(uow.session.scalars(select(CrmLink.hubspot_id).where(
            CrmLink.object_type == t, CrmLink.hubspot_id.in_([str(e.get("objectId")) for e in events]))))
            for t in ObjectType}
        uow.commit()
    if not events:
        return 0
    # Records we must read whole: new ones, merge winners, and changes to records we do not know yet.
    to_fetch: dict[ObjectType, set[str]] = defaultdict(set)
    for event in events:
        kind = str(event.get("subscriptionType", ""))
        object_type = OBJECT_OF.get(kind.split(".")[0])
        if object_type is None or kind not in HANDLED or not plans[object_type].pull:
            continue
        object_id = str(event.get("objectId"))
        if kind.endswith((".creation", ".merge")) or (kind.endswith(".propertyChange")
                                                      and object_id not in linked[object_type]):
            to_fetch[object_type].add(str(event.get("primaryObjectId") or object_id))
    fetched: dict[ObjectType, dict[str, Changes]] = {}
    if to_fetch and crm is not None:
        for object_type, ids in to_fetch.items():
            plan = plans[object_type]
            records = crm.batch_read(plan.hubspot_type, sorted(ids), properties=plan.properties())
            fetched[object_type] = {r.id: snapshot_changes(r) for r in records}
    with uows() as uow:
        _apply_events(uow, actor, plans, events, fetched)
        uow.commit()
    return len(events)


def _apply_events(uow: UnitOfWork, actor: Actor, plans: dict[ObjectType, SyncPlan], events: list[dict[str, Any]],
                  fetched: dict[ObjectType, dict[str, Changes]]) -> None:
    session = uow.session
    job = HubSpotSyncJob(kind=JobKind.webhook, object_type=ObjectType.contact, status=JobStatus.running,
                         triggered_by="hubspot webhook")
    session.add(job)
    session.flush()
    batches: dict[ObjectType, dict[str, Changes]] = defaultdict(dict)
    for fetched_type, records in fetched.items():
        for hubspot_id, changes in records.items():
            batches[fetched_type][hubspot_id] = dict(changes)
    for event in events:
        kind = str(event.get("subscriptionType", ""))
        object_type = OBJECT_OF.get(kind.split(".")[0])
        if object_type is None or kind not in HANDLED or not plans[object_type].pull:
            continue
        object_id = str(event.get("objectId"))
        if kind.endswith(".propertyChange") and object_id not in fetched.get(object_type, {}):
            changes = batches[object_type].setdefault(object_id, {})
            name, stamp = str(event.get("propertyName")), int(event.get("occurredAt", 0))
            if name not in changes or changes[name][1] < stamp:
                changes[name] = (event.get("propertyValue") or None, stamp)
        elif kind == "contact.deletion":
            _unlink(uow, actor, ObjectType.contact, object_id)
        elif kind == "contact.merge":
            _merge(uow, actor, event)
    synced = 0
    for object_type, batch in batches.items():
        # Property-change batches for unknown records lack the key field; fetched snapshots carry it.
        applied = apply_changes(session, actor, plans[object_type], batch)
        synced += applied.synced
        add_errors(uow, job, object_type, applied.errors)
    now = utcnow()
    for row in session.scalars(select(HubSpotWebhookEvent).where(
            HubSpotWebhookEvent.event_id.in_([int(e["eventId"]) for e in events]))):
        row.processed_at = now
    job.records_synced, job.status, job.completed_at = synced, JobStatus.succeeded, now


def _unlink(uow: UnitOfWork, actor: Actor, object_type: ObjectType, hubspot_id: str) -> None:
    """Deleted in HubSpot: our record stays (its history and suppressions matter) but is no longer linked."""
    from core.audit import service as audit

    link = uow.session.scalar(select(CrmLink).where(CrmLink.object_type == object_type,
                                                    CrmLink.hubspot_id == hubspot_id))
    if link is not None:
        audit.record(uow.session, actor, "unlink_from_hubspot", object_type.value, link.local_id,
                     {"hubspot_id": hubspot_id, "reason": "deleted in HubSpot"})
        uow.session.delete(link)
        uow.session.flush()


def _merge(uow: UnitOfWork, actor: Actor, event: dict[str, Any]) -> None:
    """Merged in HubSpot: the surviving id takes over the link of the merged one when it has none."""
    primary = str(event.get("primaryObjectId") or event.get("objectId"))
    session = uow.session
    has_primary = session.scalar(select(CrmLink.id).where(CrmLink.object_type == ObjectType.contact,
                                                          CrmLink.hubspot_id == primary)) is not None
    for merged in event.get("mergedObjectIds") or []:
        link = session.scalar(select(CrmLink).where(CrmLink.object_type == ObjectType.contact,
                                                    CrmLink.hubspot_id == str(merged)))
        if link is None or str(merged) == primary:
            continue
        if has_primary:
            _unlink(uow, actor, ObjectType.contact, str(merged))
        else:
            link.hubspot_id, has_primary = primary, True
            session.flush()


def now_ms(at: datetime | None = None) -> int:
    return int((at or utcnow()).timestamp() * 1000)
