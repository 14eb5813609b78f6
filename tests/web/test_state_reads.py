"""Pages read the engine state only to show one task's form; lists and incident pages never do."""

from __future__ import annotations

from tests.driver import registration
from tests.sql import statements, touching


def test_lists_and_the_incident_page_never_read_the_state(desk, db, as_role):
    incident_id = desk.register(registration(complaints=20))
    handler = as_role("service_desk")
    manager = as_role("incident_manager")
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


def test_the_task_page_reads_the_state_once(desk, db, as_role):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    handler = as_role("service_desk")
    handler.get(f"/tasks/{incident_id}/{task.id}")  # the first reading of a version parses it
    with statements() as sent:
        page = handler.get(f"/tasks/{incident_id}/{task.id}")
    assert page.status_code == 200 and "初始支持" in page.get_data(as_text=True)
    assert len(touching(sent, "SELECT", "incident_states")) == 1
