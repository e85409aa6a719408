"""Tasks: my tasks and the team's, filters, overdue rows highlighted, start/complete buttons, create
form, CSV export. Logic lives in core.crm.tasks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import CREATE, UPDATE, allowed
from core.crm import tasks as tasks_service
from core.crm.models import TaskPriority, TaskStatus, TaskType
from core.crm.schemas import TaskInput, TaskView
from core.services import Services
from ui import data
from ui.runtime import current_actor, start_rerun
from ui.widgets import (
    attempt,
    contact_picker,
    csv_download,
    ensure_navigation,
    filter_select,
    highlight_overdue,
    label,
    reset,
    selected_row,
    show_flash,
    tasks_frame,
)

OPEN, ALL = "open", "all"  # status filter choices besides the statuses themselves
NEW_FORM_KEYS = ("tasks_new_title", "tasks_new_type", "tasks_new_due_date", "tasks_new_due_time",
                 "tasks_new_priority", "tasks_new_description")

ensure_navigation()
services = start_rerun("Tasks")
actor = current_actor(services)
users = data.user_names(services, actor)
now = services.clock()
shown: dict[int, TaskView] = {}  # tasks in the tables of this rerun, for the action bar


def _on_select(table_key: str) -> None:
    row = selected_row(st.session_state.get(table_key))
    ids = st.session_state.get(f"{table_key}_ids", [])
    if row is not None and row < len(ids):
        st.session_state["tasks_selected"] = ids[row]


def _set_status(services: Services, actor: Actor, task_id: int, status: TaskStatus) -> None:
    attempt("tasks_action", lambda: tasks_service.set_task_status(
        services.uow(), actor=actor, task_id=task_id, status=status), areas=["tasks"],
        success=lambda t: f"“{t.title}” is now {label(t.status).lower()}.")


def _create(services: Services, actor: Actor) -> None:
    s = st.session_state
    due_date, due_time = s.get("tasks_new_due_date"), s.get("tasks_new_due_time") or time(9, 0)
    created = attempt("tasks_new", lambda: tasks_service.create_task(
        services.uow(), actor=actor, data=TaskInput(
        title=s.get("tasks_new_title", ""), description=s.get("tasks_new_description") or None,
        type=TaskType(s["tasks_new_type"]), priority=TaskPriority(s["tasks_new_priority"]),
        due_at=datetime.combine(due_date, due_time, tzinfo=UTC) if due_date else None,
        assignee_id=s.get("tasks_new_assignee"), contact_id=s.get("tasks_new_contact"))),
        areas=["tasks"], success=lambda t: f"Created task “{t.title}”.")
    if created is not None:
        reset(*NEW_FORM_KEYS)


def filters() -> dict[str, object]:
    a, b, c = st.columns(3)
    names = {OPEN: "Open (not complete)", ALL: "All"}
    status_choice = a.selectbox("Status", [OPEN, *[s.value for s in TaskStatus], ALL], key="tasks_status",
                                format_func=lambda v: names.get(v, label(v)))
    with b:
        kind = filter_select("Type", list(TaskType), key="tasks_type")
    with c:
        priority = filter_select("Priority", list(TaskPriority), key="tasks_priority")
    status = None if status_choice in (OPEN, ALL) else TaskStatus(status_choice)
    return {"status": status, "include_complete": status_choice != OPEN, "type": kind, "priority": priority}


def task_table(table_key: str, assignee_id: int | None, chosen: dict[str, object], file_name: str) -> None:
    items = data.tasks(services, actor, assignee_id=assignee_id, **chosen)  # type: ignore[arg-type]
    frame = tasks_frame(items, users, now)
    st.session_state[f"{table_key}_ids"] = frame["id"].tolist()
    overdue = int(frame["overdue"].sum()) if not frame.empty else 0
    st.caption(f"{len(frame)} task(s)" + (f" · **{overdue} overdue** (highlighted)" if overdue else ""))
    shown.update({t.id: t for t in items})
    st.dataframe(highlight_overdue(frame), hide_index=True, key=table_key,
                 on_select=lambda: _on_select(table_key), selection_mode="single-row",
                 column_config={"id": None, "overdue": st.column_config.CheckboxColumn("Overdue")})
    csv_download(frame, file_name, key=f"{table_key}_csv")


def actions() -> None:
    show_flash("tasks_action")
    task_id = st.session_state.get("tasks_selected")
    if task_id is None:
        st.caption("Select a task to start or complete it.")
        return
    task = shown.get(task_id)
    if task is None:  # filtered out of both tables
        return
    with st.container(border=True, key="tasks_action_bar"):
        st.markdown(f"**{task.title}** · {label(task.status)} · {label(task.priority)} priority")
        a, b, c = st.columns(3)
        a.button("Mark in progress", key="tasks_start", on_click=_set_status,
                 args=(services, actor, task.id, TaskStatus.in_progress),
                 disabled=task.status is TaskStatus.in_progress)
        b.button("Mark complete", key="tasks_complete", on_click=_set_status, type="primary",
                 args=(services, actor, task.id, TaskStatus.complete),
                 disabled=task.status is TaskStatus.complete)
        c.button("Reopen", key="tasks_reopen", on_click=_set_status,
                 args=(services, actor, task.id, TaskStatus.pending),
                 disabled=task.status is TaskStatus.pending)


def new_task() -> None:
    show_flash("tasks_new")
    contact_picker(services, actor, key="tasks_new_contact", label="Related contact", optional=True)
    assignees = list(users)
    with st.form("tasks_new_form"):
        st.text_input("Title *", key="tasks_new_title")
        a, b, c = st.columns(3)
        a.selectbox("Type", [t.value for t in TaskType], format_func=label, key="tasks_new_type")
        b.selectbox("Priority", [p.value for p in TaskPriority], index=1, format_func=label,
                    key="tasks_new_priority")
        c.selectbox("Assignee", assignees, key="tasks_new_assignee",
                    index=assignees.index(actor.user_id) if actor.user_id in assignees else None,
                    format_func=lambda uid: users.get(uid, f"user #{uid}"))
        a, b = st.columns(2)
        a.date_input("Due date", value=(now + timedelta(days=1)).date(), key="tasks_new_due_date")
        b.time_input("Due time (UTC)", value=time(9, 0), key="tasks_new_due_time")
        st.text_area("Notes", key="tasks_new_description", height=80)
        st.form_submit_button("Create task", key="tasks_new_submit", type="primary", on_click=_create,
                              args=(services, actor))


st.title("Tasks")
chosen = filters()
tab_mine, tab_team, tab_new = st.tabs(["My tasks", "Team", "New task"], key="tasks_tabs")
with tab_mine:
    task_table("tasks_mine_table", actor.user_id, chosen, "my-tasks.csv")
with tab_team:
    team_member = filter_select("Assignee", list(users), key="tasks_team_assignee",
                                format_func=lambda uid: users.get(uid, f"user #{uid}"))
    task_table("tasks_team_table", team_member, chosen, "team-tasks.csv")
if allowed(actor, "tasks", UPDATE):
    actions()
with tab_new:
    if allowed(actor, "tasks", CREATE):
        new_task()
    else:
        st.caption("Your role may not create tasks.")
