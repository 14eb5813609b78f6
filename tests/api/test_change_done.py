"""The change-done callback: the defect or requirement process tells the API that the change an
incident waits for (等待变更) is done, as a handler does with the incident page's form."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.api import tokens
from app.models import AuditEvent
from tests.api.conftest import ApiClient, make_token
from tests.driver import pass_on, registration

CHANGE = {"handling": {"outcome": "change", "change_kind": "requirement", "change_reference": "REQ-77"}}


def waiting(desk) -> int:
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("second_line", "information_systems"))
    desk.complete("second_line_is", incident_id, "second_line_handling", CHANGE)
    assert desk.incident(incident_id).status == "waiting_change"
    return incident_id


def test_the_change_process_reports_the_change_done_and_the_incident_goes_back(api, desk, db, actors, clock):
    incident_id = waiting(desk)
    clock.tick(timedelta(hours=6))
    answer = api("second_line_is").post(
        f"/api/v1/incidents/{incident_id}/change-done", json={"note": "REQ-77 已上线", "change_reference": "REQ-77"}
    )
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["incident"]["status"] == "open"
    assert [task["spec_id"] for task in body["open_tasks"]] == ["second_line_handling"]
    assert body["open_tasks"][0]["candidate_role"] == "second_line_is"  # back with the group that transferred it
    texts = " ".join(entry["text"] or "" for entry in body["timeline"])
    assert "REQ-77 已上线" in texts
    with db.read() as session:
        row = session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == incident_id, AuditEvent.kind == "change_reported_done")
        ).one()
    assert row.actor_name == actors["second_line_is"].name  # audited as the token's account


def test_a_wrong_or_no_wait_is_409_and_nothing_changes(api, desk):
    incident_id = waiting(desk)
    client = api("second_line_is")
    other = client.post(
        f"/api/v1/incidents/{incident_id}/change-done", json={"note": "已上线", "change_reference": "REQ-78"}
    )
    assert other.status_code == 409 and other.mimetype == "application/problem+json"
    assert "REQ-77" in other.json["detail"] and "REQ-78" in other.json["detail"]
    assert desk.incident(incident_id).status == "waiting_change"

    assert client.post(f"/api/v1/incidents/{incident_id}/change-done", json={"note": "已上线"}).status_code == 200
    again = client.post(f"/api/v1/incidents/{incident_id}/change-done", json={"note": "已上线"})
    assert again.status_code == 409
    assert again.json["detail"] == "该事件不在等待变更。"


def test_refusals_are_problems_404_403_422(api, app, db, actors, desk):
    incident_id = waiting(desk)
    handler = api("second_line_is")
    missing = handler.post("/api/v1/incidents/999999/change-done", json={"note": "已上线"})
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"

    requester = api("requester").post(f"/api/v1/incidents/{incident_id}/change-done", json={"note": "已上线"})
    assert requester.status_code == 403 and requester.json["type"] == "/api/v1/problems/refused"
    reader = ApiClient(app.test_client(), make_token(db, actors, "second_line_is", [tokens.READ]))
    assert reader.post(f"/api/v1/incidents/{incident_id}/change-done", json={"note": "已上线"}).status_code == 403

    for body, field in (({}, "note"), ({"note": "   "}, "note"), ({"note": "x", "extra": 1}, "extra")):
        refused = handler.post(f"/api/v1/incidents/{incident_id}/change-done", json=body)
        assert refused.status_code == 422, body
        assert field in {error["field"] for error in refused.json["errors"]}, refused.json
    assert desk.incident(incident_id).status == "waiting_change"
