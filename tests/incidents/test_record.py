"""The record and the timeline built from the audit rows, for handlers and for the requester; the
status after a confirmation; the step that comes back to its resolver after a reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import audit
from app.incidents import record, timeline, visibility
from app.models import Incident
from app.process import versions
from tests.driver import pass_on, registration, resolved

DESCRIPTION = "营业厅反馈缴费后余额不更新\n第二行：影响三个区县"


@pytest.fixture
def model(service, db):
    with db.read() as session:
        return service.models.get(versions.latest(session))


def rows(db, incident_id):
    with db.read() as session:
        return audit.events_of(session, incident_id)


def registered(desk, **facts) -> int:
    data = registration(**facts)
    data["incident"].update(description=DESCRIPTION, contact="张伟 13800000000", system="计费")
    return desk.register(data)


def answers_of(entry) -> dict[str, object]:
    return {answer.label: answer for section in entry.sections for answer in section.answers}


def test_the_record_has_the_description_and_every_fact_with_who_gave_it(desk, db, model, clock, actors):
    incident_id = registered(desk, complaints=30, core_business_impact="no")
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    clock.tick(timedelta(hours=1))
    desk.service.add_facts(actors["first_line"], incident_id, {"note": "投诉继续增加", "complaints": 60})

    found = record.build(rows(db, incident_id), model)
    said = {answer.label: answer.value for answer in found.raised_with.answers}
    assert said["事件描述"] == DESCRIPTION and said["联系人及电话"] == "张伟 13800000000"
    assert found.raised_with_given.name == "service_desk user"
    facts = {fact.answer.label: fact for fact in found.facts}
    assert set(facts) == {
        "事件类型",
        "故障类别",
        "当次故障累计投诉数",
        "是否影响核心业务",
    }  # unticked boxes say nothing
    complaints = facts["当次故障累计投诉数"]
    assert (complaints.answer.value, complaints.given.name) == (60, "first_line user")
    assert [(answer.value, given.name) for answer, given in complaints.earlier] == [(30, "service_desk user")]
    assert facts["事件类型"].answer.names == ("故障",)
    assert found.assessment["level"] == "yellow" and found.assessment["reasons"]


def test_each_step_is_in_the_timeline_with_its_labelled_answers_newest_first(desk, db, model):
    incident_id = registered(desk, complaints=20)
    desk.complete("service_desk", incident_id, "initial_support", pass_on("second_line", "development"))
    desk.complete("second_line_dev", incident_id, "second_line_handling", resolved(text="修正接口\n并重启"))

    entries = timeline.build(rows(db, incident_id), model, visibility.INTERNAL, None)
    assert [entry.id for entry in entries] == sorted((entry.id for entry in entries), reverse=True)
    steps = [entry for entry in entries if entry.kind == "task_completed"]
    assert [entry.task_name for entry in steps] == ["二线尝试解决", "初始支持", "事件登记"]
    second, desk_step = answers_of(steps[0]), answers_of(steps[1])
    assert second["解决方案细节"].value == "修正接口\n并重启" and second["解决方案细节"].kind == "long_text"
    assert second["处理结果"].names == ("已解决",)
    assert desk_step["处理记录/诊断"].value == "无法在本环节解决"  # the desk's diagnosis reaches second line
    assert desk_step["移交至"].names == ("二线",) and desk_step["二线小组"].names == ("开发组（版本开发室）",)
    assert steps[0].author.name == "second_line_dev user" and steps[0].author.role == "second_line_dev"
    assert not any(entry.kind == "started" for entry in entries)  # raised and registered at once: one entry

    work = timeline.build(rows(db, incident_id), model, visibility.INTERNAL, None, timeline.CLASSIFICATION)
    assert {entry.kind for entry in work} == {"classified"}


def test_the_requester_reads_their_own_text_the_solution_and_their_answers_only(desk, db, model, actors):
    incident_id = registered(desk, complaints=20)
    desk.service.forward_for_tracking(actors["service_desk"], incident_id, "内部：请事件经理关注")
    desk.complete("service_desk", incident_id, "initial_support", resolved(text="已修复接口"))
    desk.complete("service_desk", incident_id, "confirm_resolution",
                  {"confirmation": {"resolved": False, "comment": "仍然报错", "on_behalf": True}})  # fmt: skip
    requester = actors["requester"].user_id

    entries = timeline.build(rows(db, incident_id), model, visibility.REQUESTER_SIDE, requester)
    kinds = [entry.kind for entry in entries]
    assert kinds == ["reopened", "task_completed", "resolved", "task_completed"]
    assert all(entry.visibility == visibility.REQUESTER_SIDE for entry in entries)
    confirmation, registration_entry = entries[1], entries[3]
    assert set(answers_of(confirmation)) == {"问题是否已解决", "意见"}  # not the desk's box
    assert set(answers_of(registration_entry)) == {"事件标题", "事件描述", "事件来源", "涉及系统/模块", "联系人及电话"}
    assert entries[2].text == "已修复接口" and entries[0].text == "仍然报错"
    assert all(entry.author.name is None for entry in entries)  # handlers by role only
    assert entries[2].author.role == "service_desk"
    assert "内部：请事件经理关注" not in repr(entries)
    everything = timeline.build(rows(db, incident_id), model, visibility.INTERNAL, requester)
    assert {e.kind for e in everything if e.visibility == visibility.INTERNAL} >= {
        "forwarded_for_tracking",
        "classified",
    }
    initial = next(e for e in everything if e.task_name == "初始支持")
    assert initial.visibility == visibility.INTERNAL  # a handler's answers are theirs

    side = record.requester_side(record.build(rows(db, incident_id), model), requester)
    assert side.facts == () and side.assessment is None and side.closure is None
    assert side.raised_with_given.name is None and side.raised_with_given.roles == "service_desk"


def test_a_version_this_code_cannot_read_shows_keys_to_handlers_and_nothing_to_the_requester(desk, db):
    incident_id = registered(desk, complaints=20)
    events = rows(db, incident_id)
    internal = timeline.build(events, None, visibility.INTERNAL, None)
    assert any(answer.label == "description" for entry in internal for s in entry.sections for answer in s.answers)
    theirs = timeline.build(events, None, visibility.REQUESTER_SIDE, 1)
    assert [entry.kind for entry in theirs] == ["started"]  # what they raised, with its keys


def test_confirmed_is_a_status_of_its_own_and_the_timeline_says_yes(desk, db, model):
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    assert desk.incident(incident_id).status == "resolved"
    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    assert desk.incident(incident_id).status == "confirmed"
    (confirmation,) = [e for e in timeline.build(rows(db, incident_id), model, visibility.INTERNAL, None)
                       if e.task_name == "确认解决结果"]  # fmt: skip
    assert answers_of(confirmation)["问题是否已解决"].names == ("已解决",)
    desk.complete("service_desk", incident_id, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    assert desk.incident(incident_id).status == "closed"


def test_after_a_reopen_the_step_goes_back_to_the_handler_who_resolved_it(desk, db, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    desk.complete("requester", incident_id, "confirm_resolution",
                  {"confirmation": {"resolved": False, "comment": "仍有报错"}})  # fmt: skip
    task = desk.task(incident_id, "first_line_handling")
    assert task.assignee_id == actors["first_line"].user_id
    kind, data = desk.audit(incident_id)[-1]
    assert kind == "task_assigned" and data["reason"] == "reopened" and data["after"] == task.assignee_id
    assert desk.incident(incident_id).current_assignees == "first_line user"


def test_a_portal_incident_is_due_for_registration_and_sorts_by_it(service, db, actors, clock):
    raised = {"title": "缴费页面报错", "description": "提示系统繁忙", "source": "portal"}
    incident_id = service.start(actors["requester"], incident=raised, requester_id=actors["requester"].user_id)
    with db.read() as session:
        incident = session.get(Incident, incident_id)
        (task,) = incident.open_tasks
        assert incident.due_at is None and incident.status == "new"
        assert task.due_at == incident.created_at + timedelta(minutes=15)
