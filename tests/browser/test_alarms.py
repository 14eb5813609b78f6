"""Monitoring in the browser: an alarm raises a fault through the API; when it clears, the handler
finds 确认恢复 in their inbox, writes what they checked and ticks 恢复已确认; the incident stays open
and its timeline says who confirmed the recovery."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.api.conftest import make_token
from tests.driver import pass_on

ALARM = {"source": "zabbix", "fingerprint": "crm-db-01-disk", "system": "CRM", "summary": "CRM 数据库磁盘使用率 95%"}


def test_the_handler_confirms_the_recovery_from_the_inbox(app, open_as, live_server, desk, db, actors):
    app.extensions["alarms"].recovery_check = True  # ALARM_RECOVERY_CHECK=1
    headers = {"Authorization": f"Bearer {make_token(db, actors, 'service_desk', ['alarms'])}"}
    fired = requests.post(f"{live_server}/api/v1/alarms", json=ALARM, headers=headers, timeout=30).json()
    incident_id = fired["results"][0]["incident_id"]
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.service.claim(actors["first_line"], incident_id, desk.task(incident_id, "first_line_handling").id)
    cleared = requests.post(f"{live_server}/api/v1/alarms", json={**ALARM, "status": "resolved"}, headers=headers,
                            timeout=30).json()  # fmt: skip
    assert cleared["results"][0]["outcome"] == "resolved"

    handler = open_as("first_line")  # lands in the inbox
    checks = handler.get_by_test_id("recovery-checks")
    expect(checks).to_contain_text("确认恢复")
    expect(checks).to_contain_text("CRM 数据库磁盘使用率 95%")
    expect(handler.locator(".mainnav [data-count]")).to_have_text("2")  # the task and the check
    row = checks.get_by_test_id("recovery-check")
    row.get_by_label("说明").fill("抽查 10 笔缴费均正常")
    row.get_by_role("button", name="恢复已确认").click()
    expect(handler.locator(".flash-success")).to_contain_text("恢复已确认")
    expect(handler.get_by_test_id("recovery-checks")).to_have_count(0)

    handler.goto(f"{live_server}/incidents/{incident_id}")
    timeline = handler.get_by_test_id("timeline")
    expect(timeline).to_contain_text("恢复已确认")
    expect(timeline).to_contain_text("抽查 10 笔缴费均正常")
    expect(timeline).to_contain_text("监控告警已恢复")
    assert desk.incident(incident_id).status == "open"  # the alarm and the check never move the process
