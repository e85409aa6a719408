"""Task use cases: create, assign, move through pending → in_progress → complete, and "my tasks"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.models import User
from core.auth.permissions import CREATE, READ, UPDATE, require
from core.crm.models import Company, Contact, Task, TaskPriority, TaskStatus
from core.crm.schemas import TaskInput, TaskView
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.uow import UnitOfWork

_PRIORITY_ORDER = case(
    {TaskPriority.urgent: 0, TaskPriority.high: 1, TaskPriority.normal: 2, TaskPriority.low: 3},
    value=Task.priority,
)


def _load(uow: UnitOfWork, task_id: int) -> Task:
    task = uow.session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


def _check_refs(uow: UnitOfWork, assignee_id: int | None, contact_id: int | None, company_id: int | None) -> None:
    for model, ref, label in ((User, assignee_id, "user"), (Contact, contact_id, "contact"),
                              (Company, company_id, "company")):
        if ref is not None and uow.session.get(model, ref) is None:
            raise NotFound(f"{label} {ref} not found")


def create_task(uow: UnitOfWork, *, actor: Actor, data: TaskInput) -> TaskView:
    require(actor, "tasks", CREATE)
    with uow:
        assignee = data.assignee_id if data.assignee_id is not None else actor.user_id
        _check_refs(uow, assignee, data.contact_id, data.company_id)
        company_id = data.company_id
        if company_id is None and data.contact_id is not None:
            company_id = uow.session.scalar(select(Contact.company_id).where(Contact.id == data.contact_id))
        task = Task(**data.model_dump(exclude={"assignee_id", "company_id"}), assignee_id=assignee,
                    company_id=company_id, created_by_id=actor.user_id)
        uow.session.add(task)
        uow.session.flush()
        audit.record(uow.session, actor, "create", "task", task.id, audit.snapshot_of(task))
        view = TaskView.model_validate(task)
        uow.commit()
    return view


def assign_task(uow: UnitOfWork, *, actor: Actor, task_id: int, assignee_id: int) -> TaskView:
    require(actor, "tasks", UPDATE)
    with uow:
        task = _load(uow, task_id)
        _check_refs(uow, assignee_id, None, None)
        task.assignee_id = assignee_id
        diff = audit.changes_of(task)
        audit.record(uow.session, actor, "update", "task", task.id, diff)
        uow.session.flush()
        view = TaskView.model_validate(task)
        uow.commit()
    return view


def set_task_status(uow: UnitOfWork, *, actor: Actor, task_id: int, status: TaskStatus) -> TaskView:
    require(actor, "tasks", UPDATE)
    with uow:
        task = _load(uow, task_id)
        task.status = status
        task.completed_at = utcnow() if status is TaskStatus.complete else None
        diff = audit.changes_of(task)
        audit.record(uow.session, actor, "update", "task", task.id, diff)
        uow.session.flush()
        view = TaskView.model_validate(task)
        uow.commit()
    return view


def reschedule_task(uow: UnitOfWork, *, actor: Actor, task_id: int, due_at: datetime | None) -> TaskView:
    require(actor, "tasks", UPDATE)
    if due_at is not None and due_at.tzinfo is None:
        raise ValidationFailed("due_at must carry a time zone")
    with uow:
        task = _load(uow, task_id)
        task.due_at = due_at
        audit.record(uow.session, actor, "update", "task", task.id, audit.changes_of(task))
        uow.session.flush()
        view = TaskView.model_validate(task)
        uow.commit()
    return view


def list_tasks(
    uow: UnitOfWork, *, actor: Actor, assignee_id: int | None = None, status: TaskStatus | None = None,
    include_complete: bool = False, contact_id: int | None = None, company_id: int | None = None,
    limit: int = 200,
) -> list[TaskView]:
    """Open tasks first by due date (overdue on top), then by priority."""
    require(actor, "tasks", READ)
    with uow:
        query = select(Task)
        if assignee_id is not None:
            query = query.where(Task.assignee_id == assignee_id)
        if status is not None:
            query = query.where(Task.status == status)
        elif not include_complete:
            query = query.where(Task.status != TaskStatus.complete)
        if contact_id is not None:
            query = query.where(Task.contact_id == contact_id)
        if company_id is not None:
            query = query.where(Task.company_id == company_id)
        query = query.order_by(Task.due_at.is_(None), Task.due_at, _PRIORITY_ORDER, Task.id).limit(limit)
        return [TaskView.model_validate(t) for t in uow.session.scalars(query)]


def my_tasks(uow: UnitOfWork, *, actor: Actor, include_complete: bool = False) -> list[TaskView]:
    if actor.user_id is None:
        return []
    return list_tasks(uow, actor=actor, assignee_id=actor.user_id, include_complete=include_complete)
