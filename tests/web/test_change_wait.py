"""等待变更 on the pages: the incident page says what it waits for and takes the change-done report;
the reports page counts the wait (docs/reports.md)."""

from __future__ import annotations

from datetime import timedelta

from tests.driver import number, pass_on, registration
from tests.web.pages import row_of, section

CHANGE = {"handling": {"outcome": "change", "change_kind": "requirement", "change_reference": "REQ-77"}}


def test_a_change_done_report_brings_the_incident_back_to_its_group(desk, as_role, clock):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("second_line", "information_systems"))
    desk.complete("second_line_is", incident_id, "second_line_handling", CHANGE)
    client = as_role("second_line_is")
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    box = section(page, "change-done")
    assert "等待变更" in box and "需求处理流程" in box and "REQ-77" in box
    assert "变更已完成" in box and 'name="note"' in box
    assert "等待变更" in row_of(
        as_role("incident_manager").get("/incidents/").get_data(as_text=True), number(incident_id)
    )
    # the requester reads the status, not the reference or the form
    mine = as_role("requester").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "等待变更" in mine and "REQ-77" not in mine and 'data-testid="change-done"' not in mine

    refused = client.post(f"/incidents/{incident_id}/change-done", {"note": ""})
    assert refused.status_code == 302, refused.get_data(as_text=True)[-800:]
    assert desk.incident(incident_id).status == "waiting_change"  # refused: say what was done
    clock.tick(timedelta(hours=6))
    client = as_role("second_line_is")  # signed in again: the session would have ended meanwhile
    response = client.post(f"/incidents/{incident_id}/change-done", {"note": "REQ-77 已上线"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "变更已完成，事件已退回处理组。" in page
    assert 'data-testid="change-done"' not in page and "处理中" in page
    assert "等待变更 6.0 小时，处理期限相应顺延。" in page  # on the timeline
    assert desk.task(incident_id, "second_line_handling").candidate_role == "second_line_is"

    reports = as_role("incident_manager").get("/reports/").get_data(as_text=True)
    waits = section(reports, "change-waits")
    assert "等待变更" in waits and 'data-stat="returned"><div class="value">1<' in waits
