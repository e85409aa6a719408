"""Our sent emails and our tasks on the HubSpot contact's timeline (a note per email, a HubSpot task per task).

Each push is claimed in a row before HubSpot is called and finished in a second transaction. A row left in
``sending`` (a crash or timeout after the request left) is resolved by looking for our reference in the
contact's notes/tasks before creating anything, so a retried job never doubles an entry.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import READ, UPDATE, require
from core.content.models import Draft, DraftStatus
from core.crm.models import Task, TaskPriority, TaskStatus, TaskType
from core.db import utcnow
from core.errors import ConnectorError, NotFound
from core.hubspot.models import CrmLink, HubSpotTimelineEntry, ObjectType, TimelineKind, TimelineStatus
from core.hubspot.service import RESOURCE
from core.integrations.base import CRMConnector
from core.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
_PRIORITY = {TaskPriority.low: "LOW", TaskPriority.normal: "MEDIUM", TaskPriority.high: "HIGH",
             TaskPriority.urgent: "HIGH"}
_TYPE = {TaskType.call: "CALL", TaskType.email: "EMAIL"}  # HubSpot knows EMAIL, CALL and TODO
_BODY_PROPERTY = {TimelineKind.email_note: "hs_note_body", TimelineKind.task: "hs_task_body"}
_ENGAGEMENT = {TimelineKind.email_note: "notes", TimelineKind.task: "tasks"}
_AUDITED_AS = {TimelineKind.email_note: "draft", TimelineKind.task: "task"}  # shows in that record's history


class TimelineEntryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: TimelineKind
    local_id: int
    contact_hubspot_id: str | None
    hubspot_id: str | None
    status: TimelineStatus
    attempts: int
    message: str | None
    pushed_at: datetime | None


def reference(kind: TimelineKind, local_id: int) -> str:
    """The marker written into the entry's body, by which an unknown outcome is looked up."""
    return f"sales-agent:{kind.value}:{local_id}"


def log_email_to_hubspot(uows: UowFactory, crm: CRMConnector, *, actor: Actor, draft_id: int) -> TimelineEntryView:
    """A sent email as a note on its contact's HubSpot timeline (skipped when unsent or the contact is unlinked)."""
    require(actor, "drafts", READ)
    require(actor, RESOURCE, UPDATE)
    return _push(uows, crm, actor, TimelineKind.email_note, draft_id)


def push_task_to_hubspot(uows: UowFactory, crm: CRMConnector, *, actor: Actor, task_id: int) -> TimelineEntryView:
    """One of our tasks as a HubSpot task on its contact (skipped when the task has no linked contact)."""
    require(actor, "tasks", READ)
    require(actor, RESOURCE, UPDATE)
    return _push(uows, crm, actor, TimelineKind.task, task_id)


def _push(uows: UowFactory, crm: CRMConnector, actor: Actor, kind: TimelineKind, local_id: int) -> TimelineEntryView:
    with uows() as uow:
        entry, content = _claim(uow, kind, local_id)
        view = TimelineEntryView.model_validate(entry)
        uow.commit()
    if content is None or view.status is not TimelineStatus.sending:
        return view
    contact_id = view.contact_hubspot_id or ""
    try:
        hubspot_id = _already_there(crm, kind, local_id, contact_id) if view.attempts > 1 else None
        if hubspot_id is None:
            hubspot_id = _create(crm, kind, contact_id, content)
    except ConnectorError as exc:
        _finish(uows, actor, view.id, hubspot_id=None, error=exc)
        raise
    return _finish(uows, actor, view.id, hubspot_id=hubspot_id, error=None)


def _claim(uow: UnitOfWork, kind: TimelineKind, local_id: int) -> tuple[HubSpotTimelineEntry, dict[str, object] | None]:
    """The entry row (created or re-claimed) and what to send; nothing to send when done or not applicable."""
    session = uow.session
    entry = session.scalar(select(HubSpotTimelineEntry).where(HubSpotTimelineEntry.kind == kind,
                                                              HubSpotTimelineEntry.local_id == local_id))
    if entry is None:
        entry = HubSpotTimelineEntry(kind=kind, local_id=local_id, status=TimelineStatus.sending, attempts=0)
        session.add(entry)
    if entry.status is TimelineStatus.sent:
        session.flush()
        return entry, None
    content, contact_id, why_not = _content(uow, kind, local_id)
    link_id = session.scalar(select(CrmLink.hubspot_id).where(CrmLink.object_type == ObjectType.contact,
                                                              CrmLink.local_id == contact_id)) if contact_id else None
    if why_not is None and link_id is None:
        why_not = "its contact is not linked to a HubSpot contact"
    if why_not is not None:
        entry.status, entry.message = TimelineStatus.skipped, why_not
        session.flush()
        return entry, None
    entry.status, entry.contact_hubspot_id, entry.message = TimelineStatus.sending, link_id, None
    entry.attempts += 1
    session.flush()
    return entry, content


def _content(uow: UnitOfWork, kind: TimelineKind, local_id: int) -> tuple[dict[str, object], int | None, str | None]:
    """What goes to HubSpot, our contact id, and why nothing should go (None when it should)."""
    ref = reference(kind, local_id)
    if kind is TimelineKind.email_note:
        draft = uow.session.get(Draft, local_id)
        if draft is None:
            raise NotFound(f"draft {local_id} not found")
        if draft.status is not DraftStatus.sent or draft.sent_at is None:
            return {}, draft.contact_id, "the email has not been sent"
        body = (f"<p><strong>Email sent: {html.escape(draft.subject)}</strong></p>"
                f"<p>To: {html.escape(draft.to_email)}</p>"
                f"<p>{html.escape(draft.body).replace(chr(10), '<br>')}</p><p><small>{ref}</small></p>")
        return {"body_html": body, "at": draft.sent_at}, draft.contact_id, None
    task = uow.session.get(Task, local_id)
    if task is None:
        raise NotFound(f"task {local_id} not found")
    if task.contact_id is None:
        return {}, None, "the task has no contact"
    return {"subject": task.title, "body": f"{task.description or ''}\n\n{ref}".strip(),
            "due": task.due_at or task.created_at, "completed": task.status is TaskStatus.complete,
            "priority": _PRIORITY[task.priority], "task_type": _TYPE.get(task.type, "TODO")}, task.contact_id, None


def _already_there(crm: CRMConnector, kind: TimelineKind, local_id: int, contact_id: str) -> str | None:
    """After an unknown outcome: the entry HubSpot already holds for this email/task, if any."""
    prop = _BODY_PROPERTY[kind]
    ref = reference(kind, local_id)
    for record in crm.engagements_for_contact(_ENGAGEMENT[kind], contact_id, properties=[prop]):
        if ref in (record.properties.get(prop) or ""):
            return record.id
    return None


def _create(crm: CRMConnector, kind: TimelineKind, contact_id: str, content: dict[str, object]) -> str:
    if kind is TimelineKind.email_note:
        at = content["at"]
        assert isinstance(at, datetime)
        return crm.create_note(contact_id, str(content["body_html"]), at)
    due = content["due"]
    assert isinstance(due, datetime)
    return crm.create_task(contact_id, str(content["subject"]), str(content["body"]), due,
                           completed=bool(content["completed"]), priority=str(content["priority"]),
                           task_type=str(content["task_type"]))


def _finish(uows: UowFactory, actor: Actor, entry_id: int, *, hubspot_id: str | None,
            error: ConnectorError | None) -> TimelineEntryView:
    with uows() as uow:
        entry = uow.session.get(HubSpotTimelineEntry, entry_id)
        assert entry is not None
        if error is None:
            entry.status, entry.hubspot_id, entry.pushed_at = TimelineStatus.sent, hubspot_id, utcnow()
        elif not error.retryable:
            entry.status, entry.message = TimelineStatus.failed, error.message[:2000]
        else:
            entry.message = error.message[:2000]  # stays "sending": the retry first looks for it in HubSpot
        diff = audit.changes_of(entry)
        audit.record(uow.session, actor, "push_to_hubspot", _AUDITED_AS[entry.kind], entry.local_id, diff)
        view = TimelineEntryView.model_validate(entry)
        uow.commit()
    return view


def list_timeline_entries(uow: UnitOfWork, *, actor: Actor, limit: int = 100) -> list[TimelineEntryView]:
    require(actor, RESOURCE, READ)
    with uow:
        rows = uow.session.scalars(select(HubSpotTimelineEntry).order_by(HubSpotTimelineEntry.id.desc()).limit(limit))
        return [TimelineEntryView.model_validate(r) for r in rows]


def tasks_awaiting_timeline(uow: UnitOfWork, *, since: datetime, limit: int = 200) -> list[int]:
    """Tasks on HubSpot-linked contacts created since ``since`` that are not on the timeline yet, oldest first
    (worker bookkeeping: the database, not the queue, says what still has to reach HubSpot)."""
    with uow:
        pushed = select(HubSpotTimelineEntry.local_id).where(HubSpotTimelineEntry.kind == TimelineKind.task)
        linked = select(CrmLink.local_id).where(CrmLink.object_type == ObjectType.contact)
        query = (select(Task.id)
                 .where(Task.created_at >= since, Task.contact_id.in_(linked), Task.id.not_in(pushed))
                 .order_by(Task.id).limit(limit))
        return list(uow.session.scalars(query))
