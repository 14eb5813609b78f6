"""Confirm-recovery checks (ALARM_RECOVERY_CHECK): a cleared alarm gives the incident's handler a
to-do in their inbox, which they tick once they have looked — audited, and the incident stays as it is."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.alarms.models import RecoveryCheck
from app.alarms.service import AlarmService
from app.models import AuditEvent
from tests.alarms.test_service import alarm
from tests.driver import number, pass_on
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
