"""Who may register and what leadership may do (spec §2, revised 2026-11-30): first line registers
incidents too; leadership demands urgent handling and posts coordination notes, and is read-only
otherwise."""

from __future__ import annotations

import pytest

from app.comments import service as comments
from app.comments.models import COMMENT, WORK_NOTE
from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from tests.driver import number, pass_on, registration
from tests.web.pages import row_of, section

RAISE = {"title": "缴费页面报错", "description": "提示系统繁忙", "source": "portal"}


def test_first_line_registers_an_incident_from_the_menu(as_role, desk):
    client = as_role("first_line")
    form_page = client.get("/incidents/new").get_data(as_text=True)
    assert 'href="/incidents/new"' in form_page and 'name="incident.title"' in form_page  # 登记 in the menu
    form = {"incident.title": "账务模块报错", "incident.description": "出账时报空指针", "incident.source": "monitoring",
            "facts.type": "fault", "facts.fault_category": "application", "facts.core_business_impact": "no",
            "facts.hq_consequence": "none"}  # fmt: skip
    response = client.post("/incidents/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    incident_id = int(response.location.rsplit("/", 1)[1])
    assert desk.incident(incident_id).status == "open"
    assert desk.open_specs(incident_id) == ["initial_support"]


def test_a_portal_incident_is_registered_by_the_service_desk_or_first_line(as_role, service, actors, desk):
    incident_id = service.start(actors["requester"], incident=RAISE, requester_id=actors["requester"].user_id)
    for role in ("service_desk", "first_line"):
        inbox = as_role(role).get("/inbox").get_data(as_text=True)
        assert "事件登记" in row_of(inbox, number(incident_id)), role
    assert "事件登记" not in as_role("second_line_dev").get("/inbox").get_data(as_text=True)
    data = registration("request")
    data["incident"] = RAISE
    desk.complete("first_line", incident_id, "register_incident", data)
    assert desk.incident(incident_id).status == "open"


def test_leadership_demands_urgent_handling_once_with_a_reason(as_role, desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    client = as_role("leadership")
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    box = section(page, "leadership")
    assert "要求紧急处理" in box and "协调意见" in box
    assert 'name="update.complaints"' not in page and "/forward" not in page  # read-only otherwise

    with pytest.raises(InvalidInput):
        service.demand_urgent_handling(actors["leadership"], incident_id, " ")
    with pytest.raises(PermissionDenied):
        service.demand_urgent_handling(actors["first_line"], incident_id, "尽快处理")
    response = client.post(f"/incidents/{incident_id}/urgent", {"reason": "省公司领导要求两小时内恢复"})
    assert response.status_code == 302
    incident = desk.incident(incident_id)
    assert (incident.emergency, incident.urgency) == (True, "high")
    assert "coordinate_emergency" in desk.open_specs(incident_id)  # with the incident manager now
    audit = desk.audit(incident_id)
    demanded = [data for kind, data in audit if kind == "urgent_handling_demanded"]
    assert demanded == [{"reason": "省公司领导要求两小时内恢复"}]
    assert [data["source"] for kind, data in audit if kind == "reclassified"] == ["leadership"]
    with pytest.raises(Conflict):
        service.demand_urgent_handling(actors["leadership"], incident_id, "再次要求")

    page = as_role("incident_manager").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "高层领导要求紧急处理" in page and "省公司领导要求两小时内恢复" in page
    assert "紧急度高：客户或重要干系人明确要求紧急处理" in page


def test_leadership_posts_a_coordination_note_handlers_read(as_role, desk, service, actors):
    """A coordination note is a work note by leadership: internal, on the timeline as 协调意见, and in
    the inbox of the incident manager and of whoever holds the incident's steps."""
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    service.claim(actors["service_desk"], incident_id, task.id)
    client = as_role("leadership")
    box = section(client.get(f"/incidents/{incident_id}").get_data(as_text=True), "leadership")
    assert "协调意见" in box and f'action="/incidents/{incident_id}/work-notes"' in box
    response = client.post(f"/incidents/{incident_id}/work-notes", {"text": "请网络部配合排查"})
    assert response.status_code == 302
    (note,) = [data for kind, data in desk.audit(incident_id) if kind == "work_note_added"]
    assert note["text"] == "请网络部配合排查"
    assert sorted(note["mentions"]) == ["incident_manager user", "service_desk user"]  # the manager and the holder
    page = as_role("service_desk").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "协调意见" in page and "请网络部配合排查" in page and "高层领导" in page
    for role in ("service_desk", "incident_manager"):  # told: the incident is in their inbox, mentioned
        assert "请网络部配合排查" in as_role(role).get("/inbox").get_data(as_text=True), role
    assert "请网络部配合排查" not in as_role("first_line").get("/inbox").get_data(as_text=True)
    mine = as_role("requester").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "请网络部配合排查" not in mine  # internal
    # leadership writes no comment to the requester, and no note once the incident is closed
    assert client.post(f"/incidents/{incident_id}/comments", {"text": "x"}).status_code == 403
    with pytest.raises(PermissionDenied):
        comments.add(service, actors["leadership"], incident_id, COMMENT, "x")
    withdrawn = service.start(actors["requester"], incident=RAISE, requester_id=actors["requester"].user_id)
    service.withdraw(actors["requester"], withdrawn, "已恢复")
    with pytest.raises(PermissionDenied):
        comments.add(service, actors["leadership"], withdrawn, WORK_NOTE, "x")
