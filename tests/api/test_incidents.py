"""Incidents through the API: the registration form's validation and classification, the record as
the caller may read it, search with cursor pagination, facts, and problem+json errors."""

from __future__ import annotations

from sqlalchemy import select

from app.models import AuditEvent
from tests.driver import number, registration


def test_the_service_desk_registers_an_incident_as_the_form_does(api, actors, db):
    desk = api("service_desk")
    data = {**registration("fault", complaints=20), "requester_id": actors["requester"].user_id}
    answer = desk.post("/api/v1/incidents", json=data)
    assert answer.status_code == 201, answer.json
    body = answer.json
    incident = body["incident"]
    assert answer.headers["Location"].endswith(f"/api/v1/incidents/{incident['id']}")
    assert incident["number"] == number(incident["id"])
    assert incident["status"] == "open" and incident["type"] == "fault" and incident["urgency"]
    assert body["audience"] == "internal" and body["assessment"]
    assert any(task["spec_id"] for task in body["open_tasks"])
    with db.read() as session:
        actors_of = set(session.scalars(select(AuditEvent.actor_name).where(AuditEvent.incident_id == incident["id"])))
    assert actors["service_desk"].name in actors_of  # audited as the token's account


def test_bad_answers_are_a_422_problem_with_the_forms_field_messages(api):
    desk = api("service_desk")
    data = registration("fault")
    data["incident"] = {"title": "", "source": "carrier pigeon"}
    answer = desk.post("/api/v1/incidents", json=data)
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    fields = {error["field"]: error["message"] for error in answer.json["errors"]}
    assert {"incident.title", "incident.description", "incident.source"} <= set(fields)
    assert all(message for message in fields.values())
    # not an object at all: still the form's own message, never a crash
    assert desk.post("/api/v1/incidents", json={"incident": "x"}).status_code == 422
    assert desk.post("/api/v1/incidents", json=[1, 2]).status_code == 422
    assert desk.post("/api/v1/incidents", data="{", content_type="application/json").status_code in (400, 422)


def test_a_requester_raises_their_own_incident_and_reads_only_their_side(api, actors):
    requester = api("requester")
    answer = requester.post(
        "/api/v1/incidents",
        json={"incident": {"title": "无法登录", "description": "登录页报错", "contact": "张伟 13800000000"}},
    )
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["audience"] == "requester"
    assert body["incident"]["status"] == "new"
    assert set(body["incident"]) == {"number", "id", "title", "status", "created_at", "resolved_at", "closed_at"}
    assert body["assessment"] is None and body["facts"] == []
    # what a requester may not send: the service desk's registration
    refused = requester.post("/api/v1/incidents", json=registration("fault"))
    assert refused.status_code == 422


def test_reading_follows_the_web_apps_visibility(api, desk, actors):
    incident_id = desk.register(requester="requester")
    assert api("auditor").get(f"/api/v1/incidents/{incident_id}").json["audience"] == "internal"
    own = api("requester").get(f"/api/v1/incidents/{incident_id}")
    assert own.status_code == 200 and own.json["audience"] == "requester"
    assert "level" not in own.json["incident"] and own.json["open_tasks"] == []
    for role in ("process_owner", "admin"):
        assert api(role).get(f"/api/v1/incidents/{incident_id}").status_code == 404
    assert api("auditor").get("/api/v1/incidents/999999").status_code == 404


def test_search_filters_and_cursor_pagination(api, desk):
    ids = [desk.register(registration("fault"), requester=None) for _ in range(5)]
    ids.append(desk.register(registration("consultation")))
    reader = api("leadership")
    seen, cursor = [], None
    while True:
        page = reader.get("/api/v1/incidents", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        seen += [item["id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    faults = reader.get("/api/v1/incidents", query_string={"type": "fault"}).json["items"]
    assert sorted(item["id"] for item in faults) == ids[:5]
    by_number = reader.get("/api/v1/incidents", query_string={"q": number(ids[2])}).json["items"]
    assert [item["id"] for item in by_number] == [ids[2]]
    bad = reader.get("/api/v1/incidents", query_string={"cursor": "nonsense"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "cursor"
    assert reader.get("/api/v1/incidents", query_string={"limit": 0}).status_code == 422
    own = api("requester").get("/api/v1/incidents").json["items"]  # a requester lists only their own
    assert [item["id"] for item in own] == [ids[5]] and own[0]["level"] is None


def test_a_handler_adds_facts_and_the_incident_is_reclassified(api, desk):
    incident_id = desk.register(registration("fault"))
    handler = api("first_line")
    answer = handler.post(
        f"/api/v1/incidents/{incident_id}/facts",
        json={"update": {"complaints": 80, "note": "投诉持续增加"}},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["reclassification"]["after"]
    facts = {fact["answer"]["path"]: fact["answer"]["value"] for fact in answer.json["incident"]["facts"]}
    assert facts.get("complaints") == 80
    empty = handler.post(f"/api/v1/incidents/{incident_id}/facts", json={"update": {"note": "x"}})
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "update"
    assert api("requester").post(f"/api/v1/incidents/{incident_id}/facts", json={"update": {}}).status_code == 403
    assert (
        handler.post("/api/v1/incidents/999999/facts", json={"update": {"complaints": 1, "note": "x"}}).status_code
        == 404
    )


def test_unknown_addresses_and_methods_answer_as_problems(api):
    client = api("auditor")
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.http.delete("/api/v1/incidents", headers={"Authorization": f"Bearer {client.secret}"})
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert wrong.mimetype == "application/problem+json"
    nul = client.post("/api/v1/incidents", json={"incident": {"title": "a\x00b"}})
    assert nul.status_code == 400 and nul.mimetype == "application/problem+json"


def test_work_notes_stay_internal_and_comments_reach_the_requester(api, desk):
    incident_id = desk.register(registration("request"))  # raised by the `requester` account
    handler, requester = api("first_line"), api("requester")
    note = handler.post(f"/api/v1/incidents/{incident_id}/notes", json={"kind": "work_note", "text": "已联系厂商"})
    assert note.status_code == 201 and note.json["kind"] == "work_note"
    said = requester.post(f"/api/v1/incidents/{incident_id}/notes", json={"kind": "comment", "text": "下午仍无法登录"})
    assert said.status_code == 201
    internal = [entry["text"] for entry in handler.get(f"/api/v1/incidents/{incident_id}").json["timeline"]]
    theirs = [entry["text"] for entry in requester.get(f"/api/v1/incidents/{incident_id}").json["timeline"]]
    assert "已联系厂商" in internal and "下午仍无法登录" in internal
    assert "下午仍无法登录" in theirs and "已联系厂商" not in theirs
    refused = requester.post(f"/api/v1/incidents/{incident_id}/notes", json={"kind": "work_note", "text": "x"})
    assert refused.status_code == 403
    empty = handler.post(f"/api/v1/incidents/{incident_id}/notes", json={"kind": "comment", "text": ""})
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "text"


def test_links_through_the_api_as_on_the_page(api, desk):
    parent, child, other = (desk.register(registration("fault", complaints=20)) for _ in range(3))
    handler = api("first_line")
    made = handler.post(f"/api/v1/incidents/{child}/links", json={"kind": "part_of", "other_id": parent})
    assert made.status_code == 201 and made.json["links"]["parent"]["id"] == parent
    handler.post(f"/api/v1/incidents/{other}/links", json={"kind": "duplicate_of", "other_id": parent})
    links = handler.get(f"/api/v1/incidents/{parent}").json["links"]
    assert [c["id"] for c in links["children"]] == [child]
    assert [(ref["kind"], ref["incident"]["id"]) for ref in links["incoming"]] == [("duplicate_of", other)]
    again = handler.post(f"/api/v1/incidents/{child}/links", json={"kind": "related_to", "other_id": parent})
    assert again.status_code == 422 and again.json["errors"][0]["field"] == "other"  # already linked
    assert api("requester").get(f"/api/v1/incidents/{parent}").json["links"] is None
