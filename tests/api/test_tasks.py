"""Tasks through the API: my tasks, claim and release, complete with the form's JSON Schema."""

from __future__ import annotations

from app.models import OpenTask
from tests.driver import pass_on, registration, resolved
from tests.sql import statements, touching


def test_list_claim_release_and_complete_like_the_inbox(api, desk):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    client = api("service_desk")
    listed = client.get("/api/v1/tasks").json["items"]
    assert any(item["id"] == task.id and item["may_work"] for item in listed)
    assert client.get("/api/v1/tasks", query_string={"mine": "true"}).json["items"] == []

    base = f"/api/v1/tasks/{incident_id}/{task.id}"
    form = client.get(base + "/form").json
    assert form["json_schema"]["properties"]["handling"] and "ui_schema" in form
    assert client.post(base + "/claim").status_code == 200
    mine = client.get("/api/v1/tasks", query_string={"mine": "true"}).json["items"]
    assert [item["assignee"] for item in mine] == ["service_desk user"]
    assert client.post(base + "/release").status_code == 200
    assert desk.task(incident_id, "initial_support").assignee_id is None

    bad = client.post(base + "/complete", json={"handling": {"outcome": "resolved", "notes": "查看了日志"}})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    fields = {error["field"] for error in bad.json["errors"]}
    assert {"handling.solution_kind", "handling.solution"} <= fields
    done = client.post(base + "/complete", json=pass_on("first_line"))
    assert done.status_code == 200 and done.json["ok"] and done.json["incident_id"] == incident_id
    assert desk.open_specs(incident_id) == ["first_line_handling"]
    (following,) = done.json["open_tasks"]  # what is next, without a second call
    assert following["id"] == desk.task(incident_id, "first_line_handling").id
    assert (following["kind"], following["spec_id"], following["candidate_role"]) == ("task", "first_line_handling",
                                                                                       "first_line")  # fmt: skip
    assert following["may_work"] is False  # the service desk passed it on
    handled = api("first_line").post(f"/api/v1/tasks/{incident_id}/{following['id']}/complete", json=resolved())
    assert [(task["spec_id"], task["assignee"], task["may_work"]) for task in handled.json["open_tasks"]] == [
        ("confirm_resolution", "requester user", False)  # the requester's to answer, named
    ]
    again = client.post(base + "/complete", json=pass_on("first_line"))
    assert again.status_code == 404  # completed: the task is gone


def test_permissions_are_the_web_apps(api, desk):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    base = f"/api/v1/tasks/{incident_id}/{task.id}"
    refused = api("second_line_dev").post(base + "/complete", json=pass_on("first_line"))
    assert refused.status_code == 403 and refused.json["detail"]
    assert api("requester").post(base + "/claim").status_code == 403
    assert api("auditor").get("/api/v1/tasks").status_code == 403
    first = api("service_desk")
    first.post(base + "/claim")
    taken = api("incident_manager")  # may look, may not take a claimed task
    assert taken.post(base + "/complete", json=pass_on("first_line")).status_code == 403


def test_the_requester_confirms_without_the_internal_fields(api, desk):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    requester = api("requester")
    listed = requester.get("/api/v1/tasks").json["items"]
    assert [item["spec_id"] for item in listed] == ["confirm_resolution"]
    base = f"/api/v1/tasks/{incident_id}/{listed[0]['id']}"
    form = requester.get(base + "/form").json["json_schema"]
    internal = requester.post(base + "/complete", json={"confirmation": {"resolved": True, "on_behalf": True}})
    assert internal.status_code == 422
    confirmed = requester.post(base + "/complete", json={"confirmation": {"resolved": True}})
    assert confirmed.status_code == 200
    assert "confirmation" in form["properties"]
    assert desk.open_specs(incident_id) == ["close_incident"]
    assert confirmed.json["open_tasks"] == []  # the service desk's closing is not the requester's to read


def test_my_tasks_come_in_cursor_pages_by_deadline(api, desk, db, clock):
    """Every task once, in the inbox's order (by deadline, those without one last), however the pages fall."""
    ids = [desk.register(registration(complaints=complaints)) for complaints in (5, 40, 20, 5)]
    clock.tick(60)
    on_behalf = desk.register(registration("request"), requester=None)  # a confirmation the desk gives
    desk.complete("service_desk", on_behalf, "initial_support", resolved())
    with db.transaction() as session:  # tasks without a deadline (the model allows them): two, last
        for incident_id in ids[1:3]:
            session.get(OpenTask, desk.task(incident_id, "initial_support").id).due_at = None
    client = api("service_desk")
    whole = client.get("/api/v1/tasks", query_string={"limit": 200}).json
    assert whole["next_cursor"] is None
    expected = [(item["incident_id"], item["id"]) for item in whole["items"]]
    assert sorted({incident for incident, _task in expected}) == sorted([*ids, on_behalf])
    dues = [item["due_at"] for item in whole["items"]]
    assert dues == sorted(dues, key=lambda due: (due is None, due or ""))  # the inbox's order
    assert dues[-2:] == [None, None] and len(set(dues[:-2])) == 2
    for limit in (1, 2, 3):
        seen, cursor = [], None
        while True:
            query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/tasks", query_string=query)
            assert page.status_code == 200, page.json
            assert len(page.json["items"]) <= limit
            seen += [(item["incident_id"], item["id"]) for item in page.json["items"]]
            cursor = page.json["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, limit
    bad = client.get("/api/v1/tasks", query_string={"cursor": "WyJ4Il0"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "cursor"
    assert client.get("/api/v1/tasks", query_string={"limit": 201}).status_code == 422


def test_completing_reads_the_state_only_in_the_action_and_the_token_once(api, desk):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    client = api("service_desk")
    assert client.get("/api/v1/token").status_code == 200  # its last use is written now, not again this minute
    with statements() as sent:
        done = client.post(f"/api/v1/tasks/{incident_id}/{task.id}/complete", json=pass_on("first_line"))
    assert done.status_code == 200
    assert desk.task(incident_id, "first_line_handling")
    assert len(touching(sent, "SELECT", "incident_states")) == 1  # the form comes from the parsed model
    assert len(touching(sent, "SELECT", "api_tokens")) == 1  # with its account and roles
    assert touching(sent, "UPDATE", "api_tokens") == []
    # the task, then the action's own read: the answer's open tasks are the ones the action wrote
    assert len(touching(sent, "SELECT", "open_tasks")) == 2
    assert done.json["open_tasks"][0]["id"] == desk.task(incident_id, "first_line_handling").id
