"""The incident page, the task pages and the auditor's history show the whole record and the
timeline; the defects people hit (issue 9) stay fixed."""

from __future__ import annotations

import html
from datetime import timedelta

import lxml.html

from app.models import User
from tests.driver import number, pass_on, registration, resolved
from tests.web.pages import row_of

DESCRIPTION = "营业厅反馈缴费后余额不更新\n第二行：三个区县"


def doc(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return lxml.html.fromstring(response.get_data(as_text=True))


def text_of(page, testid: str) -> str:
    """The element's texts as people read them: each piece once, single spaces between."""
    element = page.xpath(f'//*[@data-testid="{testid}"]')[0]
    return " ".join(" ".join(text.split()) for text in element.itertext() if text.strip())


def register(desk, **facts) -> int:
    data = registration(**facts)
    data["incident"].update(description=DESCRIPTION, contact="张伟 13800000000", system="计费")
    return desk.register(data)


def test_second_line_reads_the_whole_record_and_everyone_before_them_on_the_task_page(desk, as_role):
    incident_id = register(desk, complaints=30)
    handling = {"outcome": "pass_on", "next_stage": "first_line", "notes": "已查日志：接口超时"}
    desk.complete("service_desk", incident_id, "initial_support", {"handling": handling})
    desk.complete("first_line", incident_id, "first_line_handling",
                  {"handling": {"outcome": "pass_on", "next_stage": "second_line", "group": "development",
                                "notes": "重启无效，需开发排查"}})  # fmt: skip
    task = desk.task(incident_id, "second_line_handling")
    page = doc(as_role("second_line_dev"), f"/tasks/{incident_id}/{task.id}")

    (description,) = page.xpath('//*[@data-testid="raised-with"]//dd[@data-answer="incident.description"]')
    assert description.text_content() == DESCRIPTION  # line breaks kept (pre-wrap), nothing cut
    assert "张伟 13800000000" in text_of(page, "raised-with")
    facts = text_of(page, "facts")
    assert "当次故障累计投诉数 30 service_desk user" in facts  # with who gave it
    timeline = text_of(page, "timeline")
    assert "一线尝试解决 处理记录/诊断 重启无效，需开发排查" in timeline
    assert "初始支持 处理记录/诊断 已查日志：接口超时" in timeline
    assert timeline.index("一线尝试解决") < timeline.index("初始支持") < timeline.index("事件登记")  # newest first
    assert page.xpath('//form[@data-task-form]//button[@class="primary"]')[0].text == "提交处理结果"
    assert "轻微" in text_of(page, "reasons")


def test_the_timeline_filters_by_category(desk, as_role):
    incident_id = register(desk, complaints=30)
    client = as_role("first_line")
    everything = doc(client, f"/incidents/{incident_id}")
    chips = {chip.get("data-category") for chip in everything.xpath('//*[@data-testid="timeline-filter"]/a')}
    assert chips == {None, "work", "classification", "flow"}
    classified = doc(client, f"/incidents/{incident_id}?timeline=classification")
    assert [li.get("data-kind") for li in classified.xpath('//*[@data-testid="timeline"]/li')] == ["classified"]


def test_the_requester_confirms_without_the_desk_box_or_a_claim_bar(desk, as_role):
    incident_id = register(desk, complaints=30)
    desk.complete("service_desk", incident_id, "initial_support", resolved(text="修复了接口配置"))
    task = desk.task(incident_id, "confirm_resolution")
    mine = doc(as_role("requester"), f"/tasks/{incident_id}/{task.id}")
    assert mine.xpath('//*[@data-testid="task-bar"]') == []
    assert mine.xpath('//*[@name="confirmation.on_behalf"]') == []
    assert mine.xpath('//*[@name="confirmation.customer_confirmed"]') == []
    assert mine.xpath('//form[@data-task-form]//button[@class="primary"]')[0].text == "提交确认"
    assert "修复了接口配置" in text_of(mine, "solution")
    on_behalf = doc(as_role("service_desk"), f"/tasks/{incident_id}/{task.id}")
    assert on_behalf.xpath('//*[@name="confirmation.on_behalf"]')
    incident_page = doc(as_role("requester"), f"/incidents/{incident_id}")
    assert incident_page.xpath(f'//*[@data-testid="asked"]//a[contains(@href, "{task.id}")]')


def test_after_the_confirmation_the_status_and_history_say_so(desk, as_role):
    incident_id = register(desk, complaints=30)
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    page = doc(as_role("service_desk"), f"/incidents/{incident_id}")
    assert "已确认，待关闭" in text_of(page, "summary")
    assert "问题是否已解决 已解决" in text_of(page, "timeline")
    desk.complete("service_desk", incident_id, "close_incident",
                  {"closure": {"code": "resolved", "follow_up": "none", "note": "已电话回访"}})  # fmt: skip
    page = doc(as_role("service_desk"), f"/incidents/{incident_id}")
    clock = text_of(page, "clock")
    assert clock.endswith("及时解决") and clock.count("2026-") == 1  # the deadline once, and how it went
    assert "已电话回访" in text_of(page, "closure")
    listed = as_role("service_desk").get("/incidents/?status=closed").get_data(as_text=True)
    assert "及时解决" in row_of(listed, number(incident_id))


def test_a_portal_incident_shows_its_wait_and_comes_first_in_the_desks_inbox(desk, service, actors, clock, as_role):
    later = register(desk, complaints=30)  # due in 24 h
    raised = {"title": "缴费页面报错", "description": "提示系统繁忙", "source": "portal"}
    waiting = service.start(actors["requester"], incident=raised, requester_id=actors["requester"].user_id)
    clock.tick(timedelta(hours=2))
    client = as_role("service_desk")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert inbox.index(number(waiting)) < inbox.index(number(later))
    assert "待登记 · 已超时 1小时45分钟" in row_of(inbox, number(waiting))
    listed = row_of(client.get("/incidents/").get_data(as_text=True), number(waiting))
    assert "待登记" in listed and "2026-03-02 09:00" in listed
    summary = text_of(doc(client, f"/incidents/{waiting}"), "summary")
    assert "登记时间 尚未登记" in summary and "提出时间 2026-03-02 09:00" in summary


def test_add_facts_shows_the_current_values_and_a_refused_downgrade_says_so(desk, as_role):
    incident_id = register(desk, complaints=600)  # red
    client = as_role("service_desk")
    page = doc(client, f"/incidents/{incident_id}")
    (current,) = page.xpath('//*[@data-field="update.complaints"]//*[@data-current]')
    assert current.text_content() == "当前: 600"
    response = client.post(
        f"/incidents/{incident_id}/facts", {"update.note": "核实后投诉为100", "update.complaints": "100"}
    )
    flashed = client.get(response.location).get_data(as_text=True)
    assert "分类保持不变" in flashed and "事件已重新分类" not in flashed
    reasons = text_of(doc(client, f"/incidents/{incident_id}"), "reasons")
    assert "保持红色：级别不因新事实降低（此前依据：红色：当次故障累计投诉 ≥ 500 单）" in reasons
    response = client.post(f"/incidents/{incident_id}/facts", {"update.note": "投诉超千", "update.complaints": "1200"})
    assert "级别变化：红色 → 黑色" in html.unescape(client.get(response.location).get_data(as_text=True))


def test_the_incident_manager_announces_and_designates_from_the_incident_page(desk, as_role):
    incident_id = register(desk, complaints=30)
    manager = as_role("incident_manager")
    page = doc(manager, f"/incidents/{incident_id}")
    assert page.xpath(f'//*[@data-testid="designate"]//input[@name="incident"][@value="{number(incident_id)}"]')
    assert page.xpath('//*[@data-testid="announce"]') == []  # not coordinating it
    response = manager.post("/manager/designate", {"incident": number(incident_id), "note": "领导要求紧急处理"})
    assert response.status_code == 302 and desk.incident(incident_id).emergency

    refused = manager.post(f"/incidents/{incident_id}/announce", {"announcement": "  "})
    assert refused.status_code == 422 and "必填" in text_of(lxml.html.fromstring(refused.get_data(as_text=True)),
                                                              "announce")  # fmt: skip
    response = manager.post(f"/incidents/{incident_id}/announce", {"announcement": "正在抢修\n预计一小时恢复"})
    assert response.status_code == 302
    assert desk.open_specs(incident_id) == ["coordinate_emergency"]  # back with the same manager
    requester_page = doc(as_role("requester"), f"/incidents/{incident_id}")
    (announcement,) = requester_page.xpath('//*[@data-testid="announcement"]//*[@class="longtext"]')
    assert announcement.text_content() == "正在抢修\n预计一小时恢复"
    assert "事件经理" in text_of(requester_page, "announcement") and "incident_manager user" not in text_of(
        requester_page, "announcement"
    )
    console = manager.get("/manager/").get_data(as_text=True)
    assert f'data-testid="announce-{incident_id}"' in console


def test_disabling_an_account_returns_its_tasks_and_says_how_many(desk, db, as_role, actors):
    incident_id = register(desk, complaints=30)
    desk.service.claim(actors["service_desk"], incident_id, desk.task(incident_id, "initial_support").id)
    admin = as_role("admin")
    user_id = actors["service_desk"].user_id
    response = admin.post(f"/admin/users/{user_id}", {"display_name": "service_desk user", "roles": "service_desk"})
    flashed = admin.get(response.location).get_data(as_text=True)
    assert "已将其 1 项待办任务退回所在组的任务池" in flashed
    assert desk.task(incident_id, "initial_support").assignee_id is None
    with db.read() as session:
        assert not session.get(User, user_id).active


def test_the_auditor_reads_the_description_and_fields_left_empty_are_not_deletions(desk, as_role):
    incident_id = register(desk, complaints=30)
    desk.complete("service_desk", incident_id, "initial_support", pass_on("second_line", "development"))
    desk.complete("second_line_dev", incident_id, "second_line_handling", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    page = doc(as_role("auditor"), f"/audit/incidents/{incident_id}")
    assert DESCRIPTION.split("\n")[0] in text_of(page, "summary")
    history = text_of(page, "audit-history")
    assert "事件描述 : 营业厅反馈缴费后余额不更新 第二行：三个区县" in history  # the raised text, in full
    assert "二线小组 : 本环节未填写（此前：开发组（版本开发室））" in history
    assert "开发组（版本开发室） → —" not in history


def test_the_favicon_is_served(web):
    response = web.http.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_answers_show_what_people_typed_as_text_not_markup(desk, as_role):
    """The record's answers (a long text, a short one) are escaped: markup typed into a form shows as typed."""
    data = registration(complaints=30)
    typed = "<b>余额</b> & <script>alert(1)</script>"
    data["incident"].update(description=typed, system="<i>计费</i>")
    incident_id = desk.register(data)
    page = doc(as_role("first_line"), f"/incidents/{incident_id}")
    (description,) = page.xpath('//*[@data-testid="raised-with"]//dd[@data-answer="incident.description"]')
    assert description.text_content() == typed
    (system,) = page.xpath('//*[@data-testid="raised-with"]//dd[@data-answer="incident.system"]')
    assert system.text_content() == "<i>计费</i>"
    assert not page.xpath("//*[@data-testid='raised-with']//b | //*[@data-testid='raised-with']//script")
