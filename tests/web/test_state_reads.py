"""Pages read the engine state only to show one task's form; lists and incident pages never do."""

from __future__ import annotations

from tests.driver import registration
from tests.sql import statements, touching


def test_lists_and_the_incident_page_never_read_the_state(desk, db, as_role):
    incident_id = desk.register(registration(complaints=20))
    handler = as_role("service_desk")
    manager = as_role("incident_manager")
    handler.get(f"/incidents/{incident_id}")  # the first reading of a version parses it
    with statements() as sent:
        pages = [
            handler.get("/inbox"),
            handler.get("/incidents/"),
            handler.get(f"/incidents/{incident_id}"),
            manager.get("/manager/"),
        ]
    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert "计费接口超时" in pages[0].get_data(as_text=True)
    assert touching(sent, "SELECT", "incident_states") == []
    assert touching(sent, "SELECT", "process_versions") == []  # an incident row comes without its diagram


def test_the_task_page_reads_the_state_once_and_never_the_version_row(desk, db, as_role):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    handler = as_role("service_desk")
    handler.get(f"/tasks/{incident_id}/{task.id}")  # the first reading of a version parses it
    with statements() as sent:
        page = handler.get(f"/tasks/{incident_id}/{task.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "初始支持" in text and "计费接口超时" in text  # the task and its incident
    assert len(touching(sent, "SELECT", "incident_states")) == 1
    assert touching(sent, "SELECT", "process_versions") == []  # its parsed model is cached by id
    # the incident comes with its task (a join) and its version with the state, not read a third time
    by_id = [statement for statement in touching(sent, "SELECT", "incidents") if "WHERE incidents.id =" in statement]
    assert len(by_id) == 1 and "incident_states" in by_id[0]


def test_posting_a_task_reads_the_state_once_and_never_the_version_row(desk, db, as_role):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    handler = as_role("service_desk")
    handler.get(f"/tasks/{incident_id}/{task.id}")
    form = {"spec_id": "initial_support", "handling.outcome": "pass_on", "handling.next_stage": "first_line"}
    with statements() as sent:
        response = handler.post(f"/tasks/{incident_id}/{task.id}", form)
    assert response.status_code == 302
    assert len(touching(sent, "SELECT", "incident_states")) == 1  # in the action, not again to read the form
    assert touching(sent, "SELECT", "process_versions") == []
    # the session, the task, the action (docs/engine-state.md: its writes nothing reads back, the
    # incident row, its open tasks and the report counters per day and per month among them, are one
    # batch on PostgreSQL, app/writes.py)
    assert len(sent) <= (6 if db.is_postgresql else 23), "\n".join(sent)
    page = handler.get(response.location).get_data(as_text=True)
    assert "一线尝试解决" in page
