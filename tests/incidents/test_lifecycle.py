"""Complete incidents through the real engine and database, path by path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from tests.driver import pass_on, registration, resolved


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
    assert desk.open_specs(incident_id) == ["confirm_resolution", "notify_fault"]  # the notification is still owed

    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    desk.complete("service_desk", incident_id, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    incident = desk.incident(incident_id)
    assert (incident.status, incident.closure_code) == ("closed", "resolved")
    assert desk.open_specs(incident_id) == ["notify_fault"]  # with the incident manager, also after closure
    kinds = desk.audit_kinds(incident_id)
    assert kinds[:4] == ["started", "task_completed", "classified", "dispatched"]
    assert kinds[-1] == "closed"


def close(desk, incident_id, code="resolved", follow_up="none", title=None):
    closure = {"code": code, "follow_up": follow_up}
    if title:
        closure["follow_up_title"] = title
    desk.complete("service_desk", incident_id, "close_incident", {"closure": closure})


def confirm(desk, incident_id, resolved_=True, comment=None, role="requester"):
    confirmation = {"resolved": resolved_}
    if comment:
        confirmation["comment"] = comment
    desk.complete(role, incident_id, "confirm_resolution", {"confirmation": confirmation})


def test_solved_at_registration_closes_directly(desk):
    incident_id = desk.register(registration("consultation", solved=True))
    incident = desk.incident(incident_id)
    assert (incident.status, incident.closure_code, incident.resolved_stage) == ("closed", "resolved", "registration")
    assert incident.deadline_hours if hasattr(incident, "deadline_hours") else True
    assert desk.open_specs(incident_id) == []
    assert desk.audit_kinds(incident_id) == ["started", "task_completed", "classified", "resolved", "closed"]


def test_after_the_fact_registration_keeps_the_real_occurrence_time(desk, clock):
    data = registration("request", solved=True, kind="workaround")
    data["incident"]["occurred_at"] = "2026-03-01T22:15:00+08:00"
    incident = desk.incident(desk.register(data))
    assert incident.occurred_at.isoformat() == "2026-03-01T14:15:00+00:00"
    assert incident.registered_at.isoformat() == "2026-03-02T01:00:00+00:00"  # the deadline runs from here
    assert incident.closure_code == "workaround"


def test_second_line_group_gets_the_task_and_solves(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", pass_on("second_line", "test"))
    task = desk.task(incident_id, "second_line_handling")
    assert task.candidate_role == "second_line_test"
    incident = desk.incident(incident_id)
    assert (incident.current_stage, incident.current_group) == ("second_line", "test")

    from app.incidents.service import PermissionDenied

    try:
        service.complete_task(actors["second_line_dev"], incident_id, task.id, resolved())
        raise AssertionError("the development group must not work the test group's task")
    except PermissionDenied:
        pass
    desk.complete("second_line_test", incident_id, "second_line_handling", resolved())
    assert desk.incident(incident_id).resolved_stage == "second_line"
    confirm(desk, incident_id)
    close(desk, incident_id)
    assert desk.incident(incident_id).status == "closed"


def test_needs_a_change_waits_for_it_and_comes_back_to_the_group(desk, service, actors, clock):
    incident_id = desk.register(registration(complaints=20))  # minor: 24 h
    desk.complete("service_desk", incident_id, "initial_support", pass_on("second_line", "development"))
    clock.tick(timedelta(hours=2))
    change = {"outcome": "change", "change_kind": "defect", "change_reference": "BUG-2031"}
    desk.complete("second_line_dev", incident_id, "second_line_handling", {"handling": change})
    incident = desk.incident(incident_id)
    assert (incident.status, incident.change_kind, incident.change_reference) == (
        "waiting_change",
        "defect",
        "BUG-2031",
    )
    assert incident.closed_at is None and desk.open_specs(incident_id) == []  # nobody's task while it waits
    due = incident.due_at

    clock.tick(timedelta(hours=30))  # the change takes 30 h: past the deadline, but the clock stood still
    assert service.fire_due_timers() == 0
    with pytest.raises(InvalidInput):
        service.report_change_done(actors["second_line_dev"], incident_id, "  ")
    with pytest.raises(PermissionDenied):
        service.report_change_done(actors["requester"], incident_id, "已上线")
    service.report_change_done(actors["second_line_dev"], incident_id, "BUG-2031 已修复上线")
    incident = desk.incident(incident_id)
    assert incident.status == "open" and incident.due_at == due + timedelta(hours=30)
    task = desk.task(incident_id, "second_line_handling")  # back with the group that transferred it
    assert task.candidate_role == "second_line_dev"
    kinds = desk.audit_kinds(incident_id)
    after = kinds[kinds.index("transferred") :]
    assert after.index("change_reported_done") < after.index("change_returned")
    returned = [data for kind, data in desk.audit(incident_id) if kind == "change_returned"]
    assert returned[0]["waited_hours"] == 30.0 and returned[0]["reference"] == "BUG-2031"
    with pytest.raises(Conflict):  # not waiting any more
        service.report_change_done(actors["second_line_dev"], incident_id, "再次上线")

    desk.complete("second_line_dev", incident_id, "second_line_handling", resolved())
    incident = desk.incident(incident_id)
    assert incident.resolved_in_time is True and not incident.breached
    confirm(desk, incident_id)
    close(desk, incident_id)
    assert desk.incident(incident_id).status == "closed"


def test_emergency_from_registration_goes_to_the_incident_manager_with_announcements(desk, db):
    incident_id = desk.register(registration(core_business_impact="yes"))
    incident = desk.incident(incident_id)
    assert incident.emergency and incident.current_stage == "incident_manager"
    assert desk.open_specs(incident_id) == ["coordinate_emergency"]

    announce = {"outcome": "announce", "announcement": "计费系统故障，正在抢修，预计 30 分钟内恢复"}
    desk.complete("incident_manager", incident_id, "coordinate_emergency", {"handling": announce})
    task = desk.task(incident_id, "coordinate_emergency")
    assert task.assignee_id is not None  # the manager keeps the coordination task
    desk.complete("incident_manager", incident_id, "coordinate_emergency", resolved())
    from sqlalchemy import select

    from app.models import Announcement

    with db.read() as session:
        texts = session.scalars(select(Announcement.text).where(Announcement.incident_id == incident_id)).all()
    assert texts == ["计费系统故障，正在抢修，预计 30 分钟内恢复"]
    assert desk.incident(incident_id).status == "resolved"


def test_emergency_from_handling_when_facts_show_core_business_affected(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    first_line_task = desk.task(incident_id, "first_line_handling")
    service.claim(actors["first_line"], incident_id, first_line_task.id)

    service.add_facts(actors["first_line"], incident_id, {"note": "核心业务受影响", "core_business_impact": "yes"})
    incident = desk.incident(incident_id)
    assert incident.emergency and incident.urgency == "high"
    assert desk.open_specs(incident_id) == ["coordinate_emergency"]
    events = desk.audit(incident_id)
    assert [kind for kind, _ in events][-4:] == ["facts_added", "reclassified", "dispatched", "task_withdrawn"]
    withdrawn = events[-1][1]  # the first-line step, taken over by the incident manager
    assert withdrawn["spec_id"] == "first_line_handling" and withdrawn["assignee_id"] == actors["first_line"].user_id


def test_added_facts_resume_the_same_step_with_its_assignee(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    task = desk.task(incident_id, "first_line_handling")
    service.claim(actors["first_line"], incident_id, task.id)
    service.add_facts(actors["first_line"], incident_id, {"note": "影响范围扩大", "affected_users": 250_000})
    incident = desk.incident(incident_id)
    assert (incident.level, incident.impact, incident.emergency) == ("orange", "severe", False)
    assert incident.due_at.isoformat() == "2026-03-02T13:00:00+00:00"  # 12 h from registration
    # orange now: the fault notification duty arises, with its window from now
    assert desk.open_specs(incident_id) == ["first_line_handling", "notify_fault"]
    assert incident.notify_by.isoformat() == "2026-03-02T01:30:00+00:00"
    again = desk.task(incident_id, "first_line_handling")
    assert again.id != task.id and again.assignee_id == actors["first_line"].user_id
    reclassified = [data for kind, data in desk.audit(incident_id) if kind == "reclassified"][-1]
    assert reclassified["rules"] == ["E2"]
    assert reclassified["before"]["level"] == "minor" and reclassified["after"]["level"] == "orange"


def test_forwarded_for_tracking_without_stopping_the_handler(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    handler_task = desk.task(incident_id, "first_line_handling")
    service.forward_for_tracking(actors["first_line"], incident_id, "涉及多个省份，请事件经理跟踪")
    assert desk.open_specs(incident_id) == ["first_line_handling", "track_incident"]
    assert desk.task(incident_id, "first_line_handling").id == handler_task.id  # not interrupted
    desk.complete("incident_manager", incident_id, "track_incident", {"tracking": {"action": "following"}})
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    assert desk.incident(incident_id).status == "resolved"


def test_requester_rejects_then_accepts(desk):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    confirm(desk, incident_id, False, "余额仍然没有更新")
    incident = desk.incident(incident_id)
    assert (incident.status, incident.reopen_count, incident.resolved_at) == ("open", 1, None)
    assert desk.open_specs(incident_id) == ["first_line_handling"]  # back to the stage that resolved it

    desk.complete("first_line", incident_id, "first_line_handling", resolved(text="补推了余额变更消息"))
    confirm(desk, incident_id)
    close(desk, incident_id)
    assert desk.incident(incident_id).status == "closed"
    assert desk.audit_kinds(incident_id).count("reopened") == 1


def test_service_desk_confirms_on_behalf_of_a_requester_without_account(desk):
    incident_id = desk.register(registration("request"), requester=None)
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    assert desk.task(incident_id, "confirm_resolution").assignee_id is None
    desk.complete("service_desk", incident_id, "confirm_resolution",
                  {"confirmation": {"resolved": True, "on_behalf": True, "customer_confirmed": True}})  # fmt: skip
    assert desk.open_specs(incident_id) == ["close_incident"]


def test_workaround_with_a_follow_up_incident(desk):
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", resolved("workaround", "手工补录数据"))
    confirm(desk, incident_id)
    close(desk, incident_id, "workaround", "incident", "数据同步程序修复")
    incident = desk.incident(incident_id)
    assert (incident.status, incident.closure_code) == ("closed", "workaround")
    from sqlalchemy import select

    from app.models import Incident

    with desk.db.read() as session:
        follow_up = session.scalar(select(Incident).where(Incident.parent_id == incident_id))
    assert follow_up.title == "数据同步程序修复" and follow_up.status == "new"
    assert follow_up.requester_id == incident.requester_id
    assert desk.open_specs(follow_up.id) == ["register_incident"]


def test_workaround_with_a_problem_ticket(desk, db):
    incident_id = desk.register(registration("fault", complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", resolved("workaround", "临时切换到备用接口"))
    confirm(desk, incident_id)
    close(desk, incident_id, "workaround", "problem", "接口超时根因分析")
    from sqlalchemy import select

    from app.models import ProblemTicket

    with db.read() as session:
        ticket = session.scalar(select(ProblemTicket).where(ProblemTicket.incident_id == incident_id))
    assert ticket.title == "接口超时根因分析" and ticket.number.startswith("PRB")
