"""Tasks page: my tasks and the team's, filters, overdue flag, create, start and complete."""

from __future__ import annotations

from datetime import date, time

from core.crm.models import TaskStatus
from core.crm.tasks import list_tasks, my_tasks

PAGE = "pages/Tasks.py"


def test_my_tasks_lists_the_signed_in_users_open_tasks(demo_services, demo_actor, open_page, text_of):
    at = open_page(PAGE)

    mine = at.dataframe(key="tasks_mine_table").value
    assert list(mine["title"]) == [t.title for t in my_tasks(demo_services.uow(), actor=demo_actor)]
    assert set(mine["assignee"]) == {"Dana Demo"}
    overdue = int(mine["overdue"].sum())
    assert overdue > 0  # the demo's due dates lie around 2026-11-20
    assert f"{overdue} overdue" in text_of(at)


def test_team_tab_and_filters(demo_services, demo_actor, open_page):
    at = open_page(PAGE)
    team = at.dataframe(key="tasks_team_table").value
    assert len(team) == len(list_tasks(demo_services.uow(), actor=demo_actor))
    assert len(set(team["assignee"])) > 1

    at.selectbox(key="tasks_status").select("complete").run()
    at.selectbox(key="tasks_priority").select("normal").run()
    team = at.dataframe(key="tasks_team_table").value
    assert len(team) > 0
    assert set(team["status"]) == {"Complete"} and set(team["priority"]) == {"Normal"}

    at.selectbox(key="tasks_status").select("open").run()
    at.selectbox(key="tasks_priority").select("All").run()
    at.selectbox(key="tasks_type").select("call").run()
    team = at.dataframe(key="tasks_team_table").value
    assert len(team) > 0
    assert set(team["type"]) == {"Call"} and "Complete" not in set(team["status"])


def test_new_task_form_creates_a_task(demo_services, demo_actor, open_page, text_of):
    at = open_page(PAGE)
    at.text_input(key="tasks_new_contact_search").input("maria.novak1").run()
    at.text_input(key="tasks_new_title").input("Send Maria the pricing sheet")
    at.selectbox(key="tasks_new_type").select("email")
    at.selectbox(key="tasks_new_priority").select("high")
    at.date_input(key="tasks_new_due_date").set_value(date(2026, 12, 3))
    at.time_input(key="tasks_new_due_time").set_value(time(15, 30))
    contact_id = at.selectbox(key="tasks_new_contact").options[1]
    at.selectbox(key="tasks_new_contact").select(contact_id)
    at.button(key="tasks_new_submit").click().run()

    assert not at.exception
    assert "Created task “Send Maria the pricing sheet”." in text_of(at)
    task = next(t for t in my_tasks(demo_services.uow(), actor=demo_actor) if t.title == "Send Maria the pricing sheet")
    assert task.priority.value == "high" and task.type.value == "email"
    assert task.due_at is not None and (task.due_at.hour, task.due_at.minute) == (15, 30)
    assert task.contact_id is not None


def test_empty_title_is_refused_inline(demo_services, open_page):
    at = open_page(PAGE)
    at.button(key="tasks_new_submit").click().run()

    assert not at.exception
    assert any("title" in e.value for e in at.error)


def test_selected_task_is_started_then_completed(demo_services, demo_actor, open_page, text_of):
    task = my_tasks(demo_services.uow(), actor=demo_actor)[0]
    at = open_page(PAGE)
    at.session_state["tasks_selected"] = task.id
    at.run()

    at.button(key="tasks_start").click().run()
    assert "is now in progress" in text_of(at)

    at.button(key="tasks_complete").click().run()

    assert not at.exception
    done = next(t for t in list_tasks(demo_services.uow(), actor=demo_actor, include_complete=True)
                if t.id == task.id)
    assert done.status is TaskStatus.complete
    assert task.id not in set(at.dataframe(key="tasks_mine_table").value["id"])
