"""Deadline timers and the fault-notification window, under a frozen clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import audit
from app.incidents.service import InvalidInput
from tests.driver import pass_on, registration, resolved


def test_warning_then_breach_reach_the_incident_manager_once(desk, service, clock):
    incident_id = desk.register(registration("request"))  # 24 h deadline, warning at 19.2 h
    incident = desk.incident(incident_id)
    assert incident.next_timer_due.isoformat() == "2026-03-02T20:12:00+00:00"

    clock.tick(timedelta(hours=19, minutes=11))
    assert service.fire_due_timers() == 0
    clock.tick(timedelta(minutes=2))
    assert service.fire_due_timers() == 1
    assert desk.open_specs(incident_id) == ["follow_up_warning", "initial_support"]
    assert desk.incident(incident_id).warned

    # passing the incident on re-arms the timers, but the warning already given is not repeated
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    assert desk.open_specs(incident_id) == ["first_line_handling", "follow_up_warning"]

    clock.tick(timedelta(hours=5))
    assert service.fire_due_timers() == 1
    incident = desk.incident(incident_id)
    assert incident.breached and incident.next_timer_due is None
    assert desk.open_specs(incident_id) == ["first_line_handling", "follow_up_breach", "follow_up_warning"]
    assert [kind for kind in desk.audit_kinds(incident_id) if kind.startswith("deadline")] == [
        "deadline_warning",
        "deadline_breach",
    ]
    desk.complete("incident_manager", incident_id, "follow_up_breach", {"follow_up": {"action": "coordinated"}})

    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    incident = desk.incident(incident_id)
    assert incident.status == "resolved" and incident.resolved_in_time is False
    assert service.fire_due_timers() == 0
    # the handling is over: the warning follow-up is withdrawn, and the log says so; a breach is still reviewed (4.7)
    assert desk.open_specs(incident_id) == ["confirm_resolution"]
    withdrawn = [data for kind, data in desk.audit(incident_id) if kind == "task_withdrawn"]
    assert [data["spec_id"] for data in withdrawn] == ["follow_up_warning"]


def test_an_open_breach_review_outlives_the_handling(desk, service, clock):
    incident_id = desk.register(registration("request"))  # 24 h
    clock.tick(timedelta(hours=25))
    assert service.fire_due_timers() == 1  # warning and breach at once
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    assert desk.open_specs(incident_id) == ["confirm_resolution", "follow_up_breach"]


def test_an_action_after_the_deadline_fires_the_overdue_timer_first(desk, clock):
    incident_id = desk.register(registration("consultation"))  # 48 h
    clock.tick(timedelta(hours=49))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    kinds = desk.audit_kinds(incident_id)
    assert kinds.index("deadline_breach") < kinds.index("task_completed", 2)
    assert desk.incident(incident_id).resolved_in_time is False


def test_fault_notification_in_time_ends_the_window(desk, service, clock):
    incident_id = desk.register(registration(complaints=50))  # yellow: notify within 30 min
    clock.tick(timedelta(minutes=20))
    notification = {"channels": ["sms"], "recipients": "省公司值班", "content": "计费接口故障通报"}
    desk.complete("incident_manager", incident_id, "notify_fault", {"notification": notification})
    clock.tick(timedelta(minutes=20))
    service.fire_due_timers()
    incident = desk.incident(incident_id)
    assert incident.level == "yellow" and "notification_overdue" not in desk.audit_kinds(incident_id)


def test_e1_window_expiry_raises_the_level_one_step(desk, service, clock, actors):
    incident_id = desk.register(registration(complaints=50))  # yellow, general, 24 h
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    task = desk.task(incident_id, "first_line_handling")
    service.claim(actors["first_line"], incident_id, task.id)
    # the notification task is due when its window closes; the handling step, when the incident is
    assert desk.task(incident_id, "notify_fault").due_at.isoformat() == "2026-03-02T01:30:00+00:00"
    assert task.due_at.isoformat() == "2026-03-03T01:00:00+00:00"

    clock.tick(timedelta(minutes=31))
    assert service.fire_due_timers() == 1
    incident = desk.incident(incident_id)
    assert (incident.level, incident.impact) == ("orange", "severe")
    assert incident.due_at.isoformat() == "2026-03-02T13:00:00+00:00"  # now 12 h from registration
    reclassified = [data for kind, data in desk.audit(incident_id) if kind == "reclassified"]
    assert reclassified[-1]["rules"] == ["E1"] and reclassified[-1]["source"] == "E1"
    # the handler keeps their step; the notification is still owed (late)
    assert desk.task(incident_id, "first_line_handling").assignee_id == actors["first_line"].user_id
    assert "notify_fault" in desk.open_specs(incident_id)
    assert desk.task(incident_id, "notify_fault").due_at.isoformat() == "2026-03-02T01:30:00+00:00"  # overdue
    assert desk.task(incident_id, "first_line_handling").due_at == incident.due_at


def test_reclassification_raises_level_and_shortens_the_deadline(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))  # minor, 24 h
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    service.add_facts(actors["first_line"], incident_id, {"note": "客户投诉到副总", "vp_complaint": True})
    incident = desk.incident(incident_id)
    assert incident.level == "yellow"  # E3: one level up
    service.add_facts(actors["first_line"], incident_id, {"note": "网络媒体报道", "media_exposure": True})
    incident = desk.incident(incident_id)
    assert (incident.level, incident.impact) == ("red", "major")  # E4: straight to red
    assert incident.due_at.isoformat() == "2026-03-02T13:00:00+00:00"
    rules_applied = [data["rules"] for kind, data in desk.audit(incident_id) if kind == "reclassified"]
    assert rules_applied == [["E3"], ["E4"]]


def test_a_notification_still_owed_at_resolution_stays_with_the_incident_manager(desk, service, clock, actors):
    incident_id = desk.register(registration(complaints=50))  # yellow: notify within 30 min
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    assert desk.open_specs(incident_id) == ["confirm_resolution", "notify_fault"]  # not withdrawn
    assert "task_withdrawn" not in desk.audit_kinds(incident_id)
    clock.tick(timedelta(hours=1))
    assert service.fire_due_timers() == 1  # the window passed: recorded as late
    assert "notification_overdue" in desk.audit_kinds(incident_id)
    assert desk.incident(incident_id).level == "yellow"  # the handling is over: E1 no longer re-classifies
    assert "notify_fault" in desk.open_specs(incident_id)

    # the requester says it is not solved: the incident reopens and the notification is still owed
    desk.complete(
        "requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": False, "comment": "仍然报错"}}
    )
    assert desk.open_specs(incident_id) == ["initial_support", "notify_fault"]
    notification = {"channels": ["sms"], "recipients": "省公司值班", "content": "计费接口故障通报（补发）"}
    desk.complete("incident_manager", incident_id, "notify_fault", {"notification": notification})
    assert desk.open_specs(incident_id) == ["initial_support"]


def test_the_manager_may_waive_an_owed_notification_with_a_reason_once_resolved(desk, service, actors):
    incident_id = desk.register(registration(complaints=50))
    waiver = {"notification": {"outcome": "waived", "waiver_reason": "故障 5 分钟内恢复，未对外造成影响"}}
    task = desk.task(incident_id, "notify_fault")
    with pytest.raises(InvalidInput) as refused:  # while the fault is handled, the notification is owed
        service.complete_task(actors["incident_manager"], incident_id, task.id, waiver)
    assert list(refused.value.errors) == ["notification.outcome"]
    with pytest.raises(InvalidInput) as no_reason:
        service.complete_task(actors["incident_manager"], incident_id, task.id, {"notification": {"outcome": "waived"}})
    assert "notification.waiver_reason" in no_reason.value.errors

    desk.complete("service_desk", incident_id, "initial_support", resolved())
    desk.complete("incident_manager", incident_id, "notify_fault", waiver)
    assert desk.open_specs(incident_id) == ["confirm_resolution"]
    completed = [data for kind, data in desk.audit(incident_id) if kind == "task_completed"][-1]
    assert completed["spec_id"] == "notify_fault"
    assert {key: value for key, value in completed["data"]["notification"].items() if value} == waiver["notification"]
    # waived is not owed: a reopen does not bring it back
    desk.complete(
        "requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": False, "comment": "仍然报错"}}
    )
    assert desk.open_specs(incident_id) == ["initial_support"]


def test_a_withdrawn_warning_follow_up_is_the_systems_doing(desk, service, clock):
    incident_id = desk.register(registration("request"))  # warning at 19.2 h
    clock.tick(timedelta(hours=20))
    service.fire_due_timers()
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    with desk.db.read() as session:
        rows = [event for event in audit.events_of(session, incident_id) if event.kind == "task_withdrawn"]
    assert [(row.actor_name, row.actor_id) for row in rows] == [("system", None)]


def test_a_portal_incidents_deadline_runs_from_its_submission(desk, service, clock, actors):
    raised = {"title": "缴费页面报错", "description": "提示系统繁忙", "source": "portal"}
    incident_id = service.start(actors["requester"], incident=raised, requester_id=actors["requester"].user_id)
    submitted = desk.incident(incident_id).created_at
    clock.tick(timedelta(minutes=40))  # past the registration target: the desk registers late
    data = registration(complaints=60)  # yellow: a notification is owed from the registration
    data["incident"] = raised
    desk.complete("service_desk", incident_id, "register_incident", data)
    incident = desk.incident(incident_id)
    assert incident.registered_at == submitted + timedelta(minutes=40)  # kept for the record
    assert incident.due_at == submitted + timedelta(hours=24)  # the clock started at the submission
    assert incident.warn_at == submitted + timedelta(hours=24) * 0.8
    assert incident.notify_by == incident.registered_at + timedelta(minutes=30)  # owed once known to be yellow

    # facts added later recompute the deadline from the same start
    service.add_facts(actors["service_desk"], incident_id, {"note": "投诉增加", "complaints": 120})
    assert desk.incident(incident_id).due_at == submitted + timedelta(hours=12)


def test_an_after_the_fact_registration_runs_from_its_registration(desk, clock):
    data = registration("request")
    data["incident"]["occurred_at"] = "2026-03-01T22:15:00+08:00"  # the night before
    incident = desk.incident(desk.register(data))
    assert incident.due_at == incident.registered_at + timedelta(hours=24)  # 补单: from the registration


def unanswered(desk, service, clock) -> int:
    """A consultation resolved; the requester says nothing for 3 working days (Monday → Thursday,
    Thursday → Tuesday)."""
    incident_id = desk.register(registration("consultation"))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    due = desk.incident(incident_id).next_timer_due
    assert due - desk.incident(incident_id).resolved_at == {3: timedelta(days=3), 1: timedelta(days=5)}[due.weekday()]
    clock.move_to(due - timedelta(minutes=1))
    assert service.fire_due_timers() == 0 and desk.open_specs(incident_id) == ["confirm_resolution"]
    clock.tick(timedelta(minutes=2))
    assert service.fire_due_timers() == 1
    assert desk.open_specs(incident_id) == ["follow_up_confirmation"]  # the requester's task is gone
    assert desk.task(incident_id, "follow_up_confirmation").candidate_role == "service_desk"
    assert "confirmation_unanswered" in desk.audit_kinds(incident_id)
    return incident_id


def test_an_unanswered_confirmation_goes_to_the_service_desk_and_may_close_as_no_reply(desk, service, clock):
    incident_id = unanswered(desk, service, clock)
    desk.complete("service_desk", incident_id, "follow_up_confirmation", {"confirmation": {"answer": "no_reply"}})
    incident = desk.incident(incident_id)
    assert (incident.status, incident.closure_code) == ("closed", "no_reply")
    assert desk.open_specs(incident_id) == []


def test_a_follow_up_call_may_confirm_or_reopen(desk, service, clock):
    confirmed = unanswered(desk, service, clock)
    desk.complete("service_desk", confirmed, "follow_up_confirmation", {"confirmation": {"answer": "resolved"}})
    assert desk.incident(confirmed).status == "confirmed" and desk.open_specs(confirmed) == ["close_incident"]

    reopened = unanswered(desk, service, clock)
    with pytest.raises(InvalidInput):  # say what is still wrong
        service.complete_task(desk.actors["service_desk"], reopened, desk.task(reopened, "follow_up_confirmation").id,
                              {"confirmation": {"answer": "not_resolved"}})  # fmt: skip
    desk.complete("service_desk", reopened, "follow_up_confirmation",
                  {"confirmation": {"answer": "not_resolved", "comment": "电话回访：仍无法查询"}})  # fmt: skip
    incident = desk.incident(reopened)
    assert (incident.status, incident.reopen_count) == ("open", 1)
    assert "initial_support" in desk.open_specs(reopened)  # (and, a week on, the breach review)


def test_the_requester_answering_in_time_stops_the_follow_up(desk, service, clock):
    incident_id = desk.register(registration("consultation"))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    clock.tick(timedelta(days=5))
    service.fire_due_timers()
    assert desk.open_specs(incident_id) == ["close_incident"]
