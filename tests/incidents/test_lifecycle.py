"""Complete incidents through the real engine and database, path by path."""

from __future__ import annotations

from tests.incidents.conftest import pass_on, registration, resolved


def test_first_line_solves(desk):
    incident_id = desk.register(registration(complaints=50))
    incident = desk.incident(incident_id)
    assert (incident.status, incident.level, incident.impact) == ("open", "yellow", "general")
    assert desk.open_specs(incident_id) == ["initial_support", "notify_fault"]

    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    assert desk.open_specs(incident_id) == ["first_line_handling", "notify_fault"]

    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    incident = desk.incident(incident_id)
    assert incident.status == "resolved" and incident.resolved_in_time
    assert desk.open_specs(incident_id) == ["confirm_resolution"]

    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    desk.complete("service_desk", incident_id, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    incident = desk.incident(incident_id)
    assert (incident.status, incident.closure_code) == ("closed", "resolved")
    assert desk.open_specs(incident_id) == []
    kinds = desk.audit_kinds(incident_id)
    assert kinds[:4] == ["started", "task_completed", "classified", "dispatched"]
    assert kinds[-1] == "closed"
