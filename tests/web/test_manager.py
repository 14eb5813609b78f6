"""The incident manager's console: emergencies, deadlines, their tasks, announcements, designation."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.driver import number, pass_on, registration, resolved
from tests.web.pages import row_of, section

ANNOUNCEMENT = "计费系统故障，正在抢修，预计 30 分钟内恢复"


def test_open_emergencies_with_their_coordination_task_and_announcements(desk, as_role):
    emergency = desk.register(registration(core_business_impact="yes"))
    ordinary = desk.register(registration(complaints=20))
    client = as_role("incident_manager")
    page = client.get("/manager/").get_data(as_text=True)
    emergencies = section(page, "emergencies")
    task = desk.task(emergency, "coordinate_emergency")
    assert number(emergency) in emergencies and number(ordinary) not in emergencies
    assert f"/tasks/{emergency}/{task.id}" in row_of(emergencies, number(emergency))
    assert f"/tasks/{emergency}/{task.id}" in section(page, "manager-tasks")
    assert ANNOUNCEMENT not in page

    # publishing happens through the coordination task's form
    response = client.post(f"/tasks/{emergency}/{task.id}", {"spec_id": "coordinate_emergency",
                           "handling.outcome": "announce", "handling.announcement": ANNOUNCEMENT})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get("/manager/").get_data(as_text=True)
    assert ANNOUNCEMENT in row_of(section(page, "emergencies"), number(emergency))  # the latest, beside it
    announcements = page[page.index('data-testid="announcements"') :]
    assert ANNOUNCEMENT in announcements and number(emergency) in announcements
    again = desk.task(emergency, "coordinate_emergency")  # the task came back to the manager
    assert f"/tasks/{emergency}/{again.id}" in row_of(section(page, "emergencies"), number(emergency))


def test_breached_and_nearly_breached_incidents_with_their_follow_up_tasks(desk, service, clock, as_role):
    late = desk.register(registration("request"))  # 24 h: due 2026-03-03 01:00 UTC
    clock.tick(timedelta(hours=6))
    close = desk.register(registration("request"))  # due 6 h later; warned at 19.2 h
    relaxed = desk.register(registration("consultation"))  # 48 h
    clock.tick(timedelta(hours=20))  # now 26 h after the first
    assert service.fire_due_timers() >= 2
    assert desk.incident(late).breached and desk.incident(close).warned

    page = as_role("incident_manager").get("/manager/").get_data(as_text=True)  # signed in after the clock moved
    at_risk = section(page, "at-risk")
    assert number(relaxed) not in at_risk
    assert at_risk.index(number(late)) < at_risk.index(number(close))  # by deadline
    late_row, close_row = row_of(at_risk, number(late)), row_of(at_risk, number(close))
    assert "deadline-breached" in late_row and "deadline-warning" in close_row
    breach_task = desk.task(late, "follow_up_breach")
    warning_task = desk.task(close, "follow_up_warning")
    assert f"/tasks/{late}/{breach_task.id}" in late_row and "处理超时事件" in late_row
    assert f"/tasks/{close}/{warning_task.id}" in close_row and "跟进即将超时事件" in close_row
    tasks = section(page, "manager-tasks")
    assert f"/tasks/{late}/{breach_task.id}" in tasks and f"/tasks/{close}/{warning_task.id}" in tasks
    assert f"/manager/designate?incident={number(late)}" in late_row


def test_tracking_requests_are_listed(desk, as_role):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    as_role("first_line").post(f"/incidents/{incident_id}/forward", {"note": "涉及多个省份"})
    task = desk.task(incident_id, "track_incident")
    page = as_role("incident_manager").get("/manager/").get_data(as_text=True)
    assert f"/tasks/{incident_id}/{task.id}" in row_of(section(page, "manager-tasks"), number(incident_id))


def test_designate_an_incident_as_an_emergency(desk, as_role):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    client = as_role("incident_manager")
    form = client.get(f"/manager/designate?incident={number(incident_id)}").get_data(as_text=True)
    assert f'value="{number(incident_id)}"' in form and 'data-testid="summary"' in form

    response = client.post(
        "/manager/designate", {"incident": number(incident_id), "note": "省公司领导要求按紧急事件处理"}
    )
    assert response.status_code == 302 and response.location.endswith(f"/incidents/{incident_id}")
    incident = desk.incident(incident_id)
    assert incident.emergency and incident.current_stage == "incident_manager"
    assert desk.open_specs(incident_id) == ["coordinate_emergency"]
    assert number(incident_id) in section(client.get("/manager/").get_data(as_text=True), "emergencies")
    facts = [data for kind, data in desk.audit(incident_id) if kind == "facts_added"]
    assert facts[-1]["facts"] == {"designated_emergency": True}


def test_designation_errors_are_shown_beside_the_fields(desk, as_role):
    emergency = desk.register(registration(core_business_impact="yes"))
    closed = desk.register(registration("consultation", solved=True))
    open_ = desk.register(registration(complaints=20))
    client = as_role("incident_manager")

    def refused(reference, note="原因"):
        response = client.post("/manager/designate", {"incident": reference, "note": note})
        assert response.status_code == 422
        return response.get_data(as_text=True)

    for reference in ("", "INC999999", "INC99999999999", "9" * 5000, "abc", "١٢", str(emergency), number(closed)):
        page = refused(reference)
        assert re.search(r'class="field has-error">\s*<label class="label" for="designate-incident"', page), reference
    page = refused(number(open_), note="  ")
    assert re.search(r'class="field has-error">\s*<label class="label" for="designate-note"', page)
    assert f'value="{number(open_)}"' in page  # what was typed is kept
    assert not desk.incident(open_).emergency and desk.incident(closed).status == "closed"


def test_only_the_incident_manager_designates(desk, as_role):
    incident_id = desk.register(registration(complaints=20))
    for role in ("first_line", "leadership", "service_desk"):
        client = as_role(role)
        assert client.post("/manager/designate", {"incident": number(incident_id), "note": "x"}).status_code == 403
        assert client.get("/manager/").status_code == 403
    assert not desk.incident(incident_id).emergency


def test_resolved_emergencies_leave_the_console(desk, as_role):
    emergency = desk.register(registration(core_business_impact="yes"))
    desk.complete("incident_manager", emergency, "coordinate_emergency", resolved())
    page = as_role("incident_manager").get("/manager/").get_data(as_text=True)
    assert number(emergency) not in section(page, "emergencies")


def test_core_business_impact_not_sure_is_listed_for_the_manager_until_answered(desk, as_role, actors):
    unsure = desk.register(registration(complaints=3, core_business_impact="unknown"))
    answered = desk.register(registration(complaints=3, core_business_impact="no"))
    client = as_role("incident_manager")
    page = client.get("/manager/").get_data(as_text=True)
    listed = section(page, "core-impact-to-confirm")
    assert "待确认核心业务影响" in listed and "补充事实" in listed
    assert number(unsure) in listed and number(answered) not in listed
    assert desk.incident(unsure).urgency == "medium"
    detail = client.get(f"/incidents/{unsure}").get_data(as_text=True)
    assert "紧急度中：核心业务是否受影响尚不确定（待事件经理确认）" in detail  # the reason, on the record

    # the manager (or a handler) answers under Add facts: the note goes
    response = client.post(f"/incidents/{unsure}/facts", {"update.note": "已确认不影响核心业务",
                           "update.core_business_impact": "no"})  # fmt: skip
    assert response.status_code == 302
    page = client.get("/manager/").get_data(as_text=True)
    assert 'data-testid="core-impact-to-confirm"' not in page
    assert desk.incident(unsure).urgency == "medium"  # never lowered


def test_not_sure_answered_yes_makes_the_incident_an_emergency(desk, service, actors):
    unsure = desk.register(registration(complaints=3, core_business_impact="unknown"))
    service.add_facts(actors["first_line"], unsure, {"note": "确认影响语音业务", "core_business_impact": "yes"})
    incident = desk.incident(unsure)
    assert (incident.urgency, incident.emergency, incident.core_impact_unconfirmed) == ("high", True, False)
