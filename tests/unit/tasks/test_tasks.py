"""Task assignment, status changes and "my tasks"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.crm import tasks
from core.crm.models import TaskPriority, TaskStatus, TaskType
from core.crm.schemas import TaskInput
from core.db import utcnow
from core.errors import NotFound
from tests import factories


def test_task_is_assigned_and_shows_in_the_assignees_tasks(services, admin, rep):
    person = factories.contact(services, admin)
    task = tasks.create_task(services.uow(), actor=admin, data=TaskInput(
        title="Call about pilot", type=TaskType.call, assignee_id=rep.user_id, contact_id=person.id,
        due_at=utcnow() + timedelta(days=1)))
    assert task.assignee_id == rep.user_id and task.company_id == person.company_id
    assert [t.id for t in tasks.my_tasks(services.uow(), actor=rep)] == [task.id]
    assert tasks.my_tasks(services.uow(), actor=admin) == []


def test_tasks_default_to_their_creator_and_reassign(services, admin, rep):
    task = tasks.create_task(services.uow(), actor=rep, data=TaskInput(title="Research Acme"))
    assert task.assignee_id == rep.user_id
    moved = tasks.assign_task(services.uow(), actor=admin, task_id=task.id, assignee_id=admin.user_id)
    assert moved.assignee_id == admin.user_id


def test_completing_a_task_stamps_it_and_hides_it_from_open_lists(services, admin):
    task = tasks.create_task(services.uow(), actor=admin, data=TaskInput(title="Send deck"))
    tasks.set_task_status(services.uow(), actor=admin, task_id=task.id, status=TaskStatus.in_progress)
    done = tasks.set_task_status(services.uow(), actor=admin, task_id=task.id, status=TaskStatus.complete)
    assert done.completed_at is not None
    assert tasks.my_tasks(services.uow(), actor=admin) == []
    assert len(tasks.my_tasks(services.uow(), actor=admin, include_complete=True)) == 1


def test_my_tasks_are_ordered_by_due_date_then_priority(services, admin):
    now = utcnow()
    later = tasks.create_task(services.uow(), actor=admin, data=TaskInput(title="later", due_at=now + timedelta(days=3)))
    urgent = tasks.create_task(services.uow(), actor=admin, data=TaskInput(
        title="urgent", due_at=now + timedelta(days=1), priority=TaskPriority.urgent))
    low = tasks.create_task(services.uow(), actor=admin, data=TaskInput(
        title="low", due_at=now + timedelta(days=1), priority=TaskPriority.low))
    undated = tasks.create_task(services.uow(), actor=admin, data=TaskInput(title="undated"))
    assert [t.id for t in tasks.my_tasks(services.uow(), actor=admin)] == [urgent.id, low.id, later.id, undated.id]


def test_assigning_to_an_unknown_user_is_refused(services, admin):
    with pytest.raises(NotFound):
        tasks.create_task(services.uow(), actor=admin, data=TaskInput(title="x", assignee_id=424242))
