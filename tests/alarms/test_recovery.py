"""Confirm-recovery checks (ALARM_RECOVERY_CHECK): a cleared alarm gives the incident's handler a
to-do in their inbox, which they tick once they have looked — audited, and the incident stays as it is."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.alarms.models import RecoveryCheck
from app.alarms.service import AlarmService
from app.api import paging
from app.models import AuditEvent, OpenTask
from tests.alarms.test_service import alarm
from tests.driver import number, pass_on, registration, resolved
from tests.web.pages import section

GENERIC = {"source": "zabbix", "fingerprint": "crm-db-01-disk", "system": "CRM", "summary": "CRM 数据库磁盘使用率 95%"}


FLASH = re.compile(r'<div class="flash flash-\w+" role="\w+">(.*?)</div>', re.S)


def flashes(page: str) -> list[str]:
    return FLASH.findall(page)


@pytest.fixture
def checking(app):
    """The app as configured with ALARM_RECOVERY_CHECK=1."""
    app.extensions["alarms"].recovery_check = True
    return app


def checks(db) -> list[RecoveryCheck]:
    with db.read() as session:
        return list(session.scalars(select(RecoveryCheck).order_by(RecoveryCheck.id)))


def test_the_handler_ticks_recovery_confirmed_in_their_inbox(checking, api, as_role, desk, db, actors):
    monitoring = api("service_desk", scopes=["alarms"])
    opened = monitoring.post("/api/v1/alarms", json=GENERIC).json["results"][0]
    incident_id = opened["incident_id"]
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    task = desk.task(incident_id, "first_line_handling")
    checking.extensions["incidents"].claim(actors["first_line"], incident_id, task.id)

    cleared = monitoring.post("/api/v1/alarms", json={**GENERIC, "status": "resolved"}).json["results"][0]
    assert cleared["outcome"] == "resolved"
    again = monitoring.post("/api/v1/alarms", json={**GENERIC, "status": "resolved"}).json["results"][0]
    assert again["outcome"] == "resolved" and len(checks(db)) == 1  # one check at a time

    handler = as_role("first_line")
    inbox = handler.get("/inbox").get_data(as_text=True)
    box = section(inbox, "recovery-checks")
    assert "确认恢复" in box and number(incident_id) in box and "CRM 数据库磁盘使用率 95%" in box
    assert "恢复已确认" in box
    assert 'data-testid="recovery-checks"' not in as_role("service_desk").get("/inbox").get_data(as_text=True)

    assert handler.get("/live/badge").json["count"] == 2  # the claimed task and the check
    check_id = checks(db)[0].id
    other = as_role("second_line_dev").post(f"/recovery-checks/{check_id}/confirm", {"note": "看过了"},
                                            follow_redirects=True)  # fmt: skip
    assert "这项恢复确认是别人的。" in flashes(other.get_data(as_text=True))
    assert checks(db)[0].confirmed_at is None

    done = handler.post(f"/recovery-checks/{check_id}/confirm", {"note": "业务已恢复，抽查 10 笔缴费正常"},
                        follow_redirects=True)  # fmt: skip
    page = done.get_data(as_text=True)
    assert "恢复已确认。" in flashes(page)[0]
    assert 'data-testid="recovery-checks"' not in page  # ticked: gone from the inbox
    assert handler.get("/live/badge").json["count"] == 1
    assert desk.incident(incident_id).status == "open"  # the alarm and the check never move the process
    assert desk.open_specs(incident_id) == ["first_line_handling"]
    with db.read() as session:
        row = session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == incident_id, AuditEvent.kind == "recovery_confirmed")
        ).one()
    assert row.actor_name == actors["first_line"].name
    record = handler.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "恢复已确认" in record and "业务已恢复，抽查 10 笔缴费正常" in record  # on the timeline

    twice = handler.post(f"/recovery-checks/{check_id}/confirm", {}, follow_redirects=True)
    assert "已经确认了这次恢复" in flashes(twice.get_data(as_text=True))[0]
    assert handler.post("/recovery-checks/999999/confirm", {}, follow_redirects=True).status_code == 200


def test_who_gets_the_check(service, actors, desk, db):
    alarms = AlarmService(service, recovery_check=True)
    monitoring = actors["service_desk"]
    # nobody holds the incident: anyone of its group
    opened = alarms.receive(monitoring, alarm("fp-1"))
    alarms.receive(monitoring, alarm("fp-1", status="resolved"))
    first = checks(db)[0]
    assert (first.incident_id, first.assignee_id, first.candidate_role) == (opened.incident_id, None, "service_desk")
    # a resolved incident (waiting for the requester) has no handling task: the service desk follows it up
    other = alarms.receive(monitoring, alarm("fp-2", system="Billing"))
    desk.complete("service_desk", other.incident_id, "initial_support", pass_on("first_line"))
    service.claim(actors["first_line"], other.incident_id, desk.task(other.incident_id, "first_line_handling").id)
    alarms.receive(monitoring, alarm("fp-2", status="resolved", system="Billing"))
    second = checks(db)[1]
    assert (second.assignee_id, second.candidate_role) == (actors["first_line"].user_id, "first_line")
    kinds = desk.audit_kinds(other.incident_id)
    assert "recovery_check_opened" in kinds and kinds.count("work_note_added") == 1


def test_off_by_default_a_clear_is_only_a_note(service, actors, desk, db):
    alarms = AlarmService(service)
    opened = alarms.receive(actors["service_desk"], alarm())
    alarms.receive(actors["service_desk"], alarm(status="resolved"))
    assert checks(db) == []
    assert "work_note_added" in desk.audit_kinds(opened.incident_id)


def held(api, role: str) -> list[dict]:
    """The confirm-recovery checks in this role's API task list."""
    items = api(role).get("/api/v1/tasks").json["items"]
    return [item for item in items if item["kind"] == "recovery_check"]


def cleared_incident(api, desk, **fields) -> int:
    """An incident an alarm opened and whose alarm then cleared (a check is open on it)."""
    monitoring = api("service_desk", scopes=["alarms"])
    incident_id = monitoring.post("/api/v1/alarms", json={**GENERIC, **fields}).json["results"][0]["incident_id"]
    monitoring.post("/api/v1/alarms", json={**GENERIC, **fields, "status": "resolved"})
    return incident_id


def test_the_check_follows_the_incidents_handling(checking, api, desk, actors, db):
    incident_id = cleared_incident(api, desk)
    assert [check["incident_id"] for check in held(api, "service_desk")] == [incident_id]  # its group, unclaimed
    assert held(api, "first_line") == []

    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    assert held(api, "service_desk") == []  # passed on: the check went with the handling
    [check] = held(api, "first_line")
    assert (check["candidate_role"], check["assignee"], check["may_work"]) == ("first_line", None, True)
    task = desk.task(incident_id, "first_line_handling")
    desk.service.claim(actors["first_line"], incident_id, task.id)
    [check] = held(api, "first_line")
    assert check["assignee"] == "first_line user"
    refused = api("service_desk").post(f"/api/v1/recovery-checks/{check['id']}/confirm", json={})
    assert refused.status_code == 403  # who first got it (the desk) may no longer tick it

    desk.complete("first_line", incident_id, "first_line_handling", pass_on("second_line", "development"))
    assert held(api, "first_line") == [] and len(held(api, "second_line_dev")) == 1
    assert checks(db)[0].candidate_role == "service_desk"  # the row keeps whom it first went to


def test_the_check_ends_with_its_incident(checking, api, as_role, desk, actors, db):
    incident_id = cleared_incident(api, desk)
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    assert len(held(api, "service_desk")) == 1  # resolved: the desk follows it up to closure
    desk.complete("service_desk", incident_id, "confirm_resolution",  # an alarm's incident has no requester
                  {"confirmation": {"resolved": True, "on_behalf": True, "customer_confirmed": True}})  # fmt: skip
    desk.complete("service_desk", incident_id, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})

    assert desk.incident(incident_id).status == "closed"
    assert held(api, "service_desk") == [] and held(api, "first_line") == []
    assert 'data-testid="recovery-checks"' not in as_role("service_desk").get("/inbox").get_data(as_text=True)
    [(kind, data)] = [(kind, data) for kind, data in desk.audit(incident_id) if kind == "recovery_check_closed"]
    assert data == {"check_id": checks(db)[0].id, "alarm_id": checks(db)[0].alarm_id, "status": "closed"}
    with db.read() as session:
        row = session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == incident_id, AuditEvent.kind == "recovery_check_closed")
        ).one()
    assert row.actor_name == "system"
    assert desk.audit_kinds(incident_id).index("closed") < desk.audit_kinds(incident_id).index("recovery_check_closed")
    assert checks(db)[0].closed_at is not None and checks(db)[0].confirmed_at is None
    late = api("incident_manager").post(f"/api/v1/recovery-checks/{checks(db)[0].id}/confirm", json={})
    assert late.status_code == 409 and "已关闭" in late.json["detail"]
    history = as_role("auditor").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "事件已结束，恢复确认随之关闭" in history


def test_checks_come_in_the_api_task_list_and_are_ticked_there(checking, api, desk, db, clock):
    first = cleared_incident(api, desk)
    clock.tick(60)
    second = cleared_incident(api, desk, fingerprint="billing-api", system="Billing", summary="计费接口 5xx 告警")
    request = desk.register(registration("request"))  # created at the same moment as the second check
    with db.transaction() as session:  # and without a deadline (the model allows it), as checks are
        session.get(OpenTask, desk.task(request, "initial_support").id).due_at = None
    client = api("service_desk")
    whole = client.get("/api/v1/tasks", query_string={"limit": 200}).json["items"]
    kinds = [(item["kind"], item["incident_id"]) for item in whole]
    # no deadline: last, by when they came (a check after the tasks of its moment)
    assert kinds[-3:] == [("recovery_check", first), ("task", request), ("recovery_check", second)]
    assert {kind for kind, _incident in kinds[:-3]} == {"task"} and len(kinds) == 5
    check = whole[-1]
    assert (check["name"], check["alarm"], check["spec_id"], check["lane"], check["due_at"]) == (
        "确认恢复", "计费接口 5xx 告警", None, None, None
    )  # fmt: skip
    for limit in (1, 2, 3):  # however the pages fall, every item once, in order
        seen, cursor = [], None
        while True:
            page = client.get("/api/v1/tasks", query_string={"limit": limit, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.json
            seen += [(item["kind"], item["id"]) for item in page.json["items"]]
            cursor = page.json["next_cursor"]
            if cursor is None:
                break
        assert seen == [(item["kind"], item["id"]) for item in whole], limit
    forged = client.get("/api/v1/tasks", query_string={"cursor": paging.encode([None, "2026-03-02T01:00:00+00:00",
                                                                                 "recovery_check:x"])})  # fmt: skip
    assert forged.status_code == 422 and forged.json["errors"][0]["field"] == "cursor"
    assert client.get("/api/v1/tasks", query_string={"mine": "true"}).json["items"] == []  # nobody holds them

    url = f"/api/v1/recovery-checks/{check['id']}/confirm"
    assert client.post(url, json={"note": "x" * 4001}).status_code == 422
    done = client.post(url, json={"note": "抽查 10 笔缴费正常"})
    assert done.status_code == 200 and done.json == {"ok": True, "incident_id": second}
    assert [item["incident_id"] for item in held(api, "service_desk")] == [first]
    again = client.post(url, json={})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert client.post("/api/v1/recovery-checks/999999/confirm", json={}).status_code == 404
    assert api("requester").post(url, json={}).status_code == 403
    assert ("recovery_confirmed", {"check_id": int(check["id"]), "alarm_id": checks(db)[1].alarm_id,
                                   "note": "抽查 10 笔缴费正常"}) in desk.audit(second)  # fmt: skip
