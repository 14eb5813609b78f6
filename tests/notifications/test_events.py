"""Who hears of what: the rows an incident action writes, in the action's own transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.incidents.service import InvalidInput
from tests.driver import pass_on, registration, resolved
from tests.notifications.conftest import outbox, params, who


def test_registration_tells_the_requester_and_the_pool_of_the_first_step(desk, db, reachable):
    incident_id = desk.register(registration("request"))
    rows = outbox(db, incident_id=incident_id)
    # the service desk registered it and holds its initial support step: the actor is not told
    assert who(rows) == [("registered", "requester", "email"), ("registered", "requester", "inapp")]
    email = next(row for row in rows if row.channel == "email")
    assert (email.address, email.locale, email.status) == ("requester@example.com", "en", "pending")
    assert next(row for row in rows if row.channel == "inapp").status == "sent"  # shown, nothing to deliver

    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    arrived = outbox(db, incident_id=incident_id, kind="task_arrived")
    assert who(arrived) == [("task_arrived", "first_line", "email"), ("task_arrived", "first_line", "inapp")]
    task = desk.task(incident_id, "first_line_handling")
    assert params(arrived[0])["path"] == f"/tasks/{incident_id}/{task.id}"
    assert params(arrived[0])["task"] == "一线尝试解决"


def test_a_person_without_an_address_is_told_in_the_app_only(desk, db, actors):
    incident_id = desk.register(registration("request"))
    assert who(outbox(db, incident_id=incident_id)) == [("registered", "requester", "inapp")]


def test_an_action_that_fails_writes_no_notification(desk, db, service, reachable):
    incident_id = desk.register(registration("request"))
    before = len(outbox(db))
    task = desk.task(incident_id, "initial_support")
    with pytest.raises(InvalidInput):
        service.complete_task(reachable["service_desk"], incident_id, task.id, {"handling": {"outcome": "nonsense"}})
    assert len(outbox(db)) == before


def test_assigning_a_task_tells_the_assignee_once(desk, db, service, reachable):
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    task = desk.task(incident_id, "first_line_handling")
    manager = reachable["incident_manager"]
    service.assign(manager, incident_id, task.id, reachable["first_line"].user_id)
    # already told when the task arrived in the pool: the same task is not news twice
    assert len(outbox(db, kind="task_arrived")) == 2 and outbox(db, kind="task_assigned") == []
    service.release(reachable["first_line"], incident_id, task.id)
    service.claim(reachable["first_line"], incident_id, task.id)
    assert len(outbox(db, incident_id=incident_id, recipient_id=reachable["first_line"].user_id)) == 2


def test_warning_and_breach_reach_the_holder_and_the_incident_manager(desk, db, service, clock, reachable):
    incident_id = desk.register(registration("request"))  # 24 h, warning at 19.2 h
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    service.claim(reachable["first_line"], incident_id, desk.task(incident_id, "first_line_handling").id)
    clock.tick(timedelta(hours=19, minutes=13))
    service.fire_due_timers()
    warning = outbox(db, kind="deadline_warning")
    assert {(kind, name) for kind, name, _ in who(warning)} == {
        ("deadline_warning", "first_line"),
        ("deadline_warning", "incident_manager"),
    }
    assert params(warning[0])["holders"] == "first_line user"
    # the manager's follow-up step arrives with the warning: one message, not two
    assert outbox(db, kind="task_arrived", recipient_id=reachable["incident_manager"].user_id) == []
    clock.tick(timedelta(hours=5))
    service.fire_due_timers()
    assert len(outbox(db, kind="deadline_breach")) == 4  # two people, two channels
    service.fire_due_timers()
    assert len(outbox(db, kind="deadline_breach")) == 4


def test_an_emergency_reaches_the_incident_manager_and_leadership(desk, db, reachable):
    incident_id = desk.register(registration(core_business_impact="yes"))
    people = {name for kind, name, _ in who(outbox(db, kind="emergency"))}
    assert people == {"incident_manager", "leadership"}
    assert outbox(db, kind="task_arrived", incident_id=incident_id) == []  # the coordination step: told already


def test_a_raised_level_names_the_rule(desk, db, service, reachable):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    service.claim(reachable["first_line"], incident_id, desk.task(incident_id, "first_line_handling").id)
    before = desk.incident(incident_id).level
    service.add_facts(reachable["first_line"], incident_id, {"note": "副总投诉", "vp_complaint": True})
    rows = outbox(db, kind="escalated")
    assert {name for _, name, _ in who(rows)} == {"incident_manager"}  # the holder raised it; not told
    data = params(rows[0])
    assert (data["before"], data["after"], data["rules"]) == (before, desk.incident(incident_id).level, ["E3"])
    assert data["reasons"] and data["reasons"][0].startswith("E3")


def test_the_requester_is_asked_to_confirm_and_told_of_the_closure(desk, db, reachable):
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", resolved(text="调整了套餐"))
    rows = outbox(db, kind="resolved")
    assert who(rows) == [("resolved", "requester", "email"), ("resolved", "requester", "inapp")]
    confirm = desk.task(incident_id, "confirm_resolution")
    assert params(rows[0])["path"] == f"/tasks/{incident_id}/{confirm.id}"
    assert params(rows[0])["solution"] == "调整了套餐"
    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    desk.complete("service_desk", incident_id, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    assert who(outbox(db, kind="closed")) == [("closed", "requester", "email"), ("closed", "requester", "inapp")]
