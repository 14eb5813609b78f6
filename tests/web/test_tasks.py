"""The inbox and task pages: a handler's work in the web app, server-rendered."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from tests.driver import number, pass_on, registration, resolved
from tests.web.pages import row_of, section


def test_inbox_lists_claimable_tasks_by_deadline_and_claims(desk, as_role):
    consultation = desk.register(registration("consultation"))  # 48 h
    fault = desk.register(registration(complaints=20))  # 24 h: due first
    client = as_role("service_desk")
    page = client.get("/inbox").get_data(as_text=True)
    assert page.index(f"INC{fault:06d}") < page.index(f"INC{consultation:06d}")
    task = desk.task(fault, "initial_support")
    response = client.post(f"/tasks/{fault}/{task.id}/claim", {"next": "inbox"})
    assert response.status_code == 302
    assert desk.task(fault, "initial_support").assignee_id is not None
    mine = client.get("/inbox?mine=1").get_data(as_text=True)
    assert f"INC{fault:06d}" in mine and f"INC{consultation:06d}" not in mine


def test_task_form_errors_keep_what_was_typed_then_completes(desk, as_role):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    client = as_role("service_desk")
    url = f"/tasks/{incident_id}/{task.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="handling.outcome"' in page and "初始支持" in page
    response = client.post(url, {"spec_id": "initial_support", "handling.outcome": "resolved",
                                 "handling.notes": "查看了日志"})  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "查看了日志" in page  # nothing typed is lost
    assert page.count('class="error"') >= 2  # solution kind and solution, each beside its field
    response = client.post(url, {"spec_id": "initial_support", "handling.outcome": "pass_on",
                                 "handling.next_stage": "first_line"})  # fmt: skip
    assert response.status_code == 302 and response.location.endswith(f"/incidents/{incident_id}")
    assert desk.open_specs(incident_id) == ["first_line_handling"]


def test_a_task_completed_by_someone_else_gives_a_clear_message(desk, as_role):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    client = as_role("service_desk")
    client.get(f"/tasks/{incident_id}/{task.id}")
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    response = client.post(f"/tasks/{incident_id}/{task.id}", {"spec_id": "initial_support",
                                                               "handling.outcome": "pass_on"})  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "already been completed" in page or "已完成" in page


def test_registration_by_the_service_desk(as_role, desk):
    client = as_role("service_desk")
    assert 'name="incident.title"' in client.get("/incidents/new").get_data(as_text=True)
    form = {
        "incident.title": "账务模块报错",
        "incident.description": "出账时报空指针",
        "incident.source": "monitoring",
        "facts.type": "fault",
        "facts.fault_category": "application",
        "facts.core_business_impact": "no",
        "facts.complaints": "0",
        "facts.hq_consequence": "none",
    }
    response = client.post("/incidents/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    incident_id = int(response.location.rsplit("/", 1)[1])
    incident = desk.incident(incident_id)
    assert (incident.title, incident.source, incident.status) == ("账务模块报错", "monitoring", "open")
    page = client.get(response.location).get_data(as_text=True)
    assert "未定级" in page  # the reasons are shown


def test_handlers_add_facts_and_forward_from_the_incident_page(desk, as_role):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    client = as_role("first_line")
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert 'name="update.complaints"' in page and "update.designated_emergency" not in page
    bad = client.post(f"/incidents/{incident_id}/facts", {"update.complaints": "-3"})
    assert bad.status_code == 422
    ok = client.post(f"/incidents/{incident_id}/facts", {"update.note": "投诉增加", "update.complaints": "120"})
    assert ok.status_code == 302
    assert desk.incident(incident_id).level == "orange"
    client.post(f"/incidents/{incident_id}/forward", {"note": "请跟踪"})
    assert "track_incident" in desk.open_specs(incident_id)


def test_contradicting_facts_are_explained_in_chinese(as_role, desk):
    client = as_role("service_desk")
    form = {
        "incident.title": "充值失败",
        "incident.description": "大量用户充值失败",
        "incident.source": "hotline",
        "facts.type": "fault",
        "facts.fault_category": "application",
        "facts.core_business_impact": "no",
        "facts.affected_users": "900000",
        "facts.total_users": "500000",
        "facts.hq_consequence": "none",
    }
    response = client.post("/incidents/new", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "影响用户数（900000）不能超过省份承载用户数（500000）" in page
    assert 'value="900000"' in page  # what was typed is still there


def test_the_menu_badge_counts_the_inbox(desk, as_role):
    for _ in range(3):
        incident_id = desk.register(registration(complaints=20))
    client = as_role("service_desk")
    page = client.get("/inbox?type=fault").get_data(as_text=True)
    assert 'data-poll="15">3</span>' in page  # the live badge (docs/live.md)
    assert page.count('href="/tasks/') == 3
    assert client.get("/inbox?type=request").get_data(as_text=True).count('href="/tasks/') == 0
    # the filters are written into the statement on PostgreSQL (app/web/queries.py): a quote stays data
    odd = client.get("/inbox?type=fault'--&level=" + quote("x' OR '1'='1"))
    assert odd.status_code == 200 and odd.get_data(as_text=True).count('href="/tasks/') == 0
    level = desk.incident(incident_id).level
    assert client.get(f"/inbox?type=fault&level={level}").get_data(as_text=True).count('href="/tasks/') == 3


def test_the_inbox_filters_follow_a_reclassification_of_an_open_task(desk, service, actors, as_role):
    # the filters read the incident's type, level and flag as copied onto its tasks (migration 0042): a task
    # that stays open through a reclassification (the manager's tracking) is filtered by what the incident is now
    incident_id = desk.register(registration(complaints=20))  # minor
    other = desk.register(registration(complaints=20))
    for each in (incident_id, other):
        desk.complete("service_desk", each, "initial_support", pass_on("first_line"))
        service.forward_for_tracking(actors["first_line"], each, "涉及多个省份，请事件经理跟踪")
    tracking = desk.task(incident_id, "track_incident")
    client = as_role("incident_manager")

    def listed(query: str) -> set[str]:
        page = client.get("/inbox?" + query).get_data(as_text=True)
        return {f"INC{each:06d}" for each in (incident_id, other) if f"INC{each:06d}" in page}

    assert listed("type=fault&level=minor") == {f"INC{incident_id:06d}", f"INC{other:06d}"}
    service.add_facts(actors["first_line"], incident_id, {"note": "客户投诉到副总", "vp_complaint": True})
    assert desk.task(incident_id, "track_incident").id == tracking.id  # the same task, still open
    assert listed("type=fault&level=minor") == {f"INC{other:06d}"}
    assert listed("level=yellow") == {f"INC{incident_id:06d}"}
    assert listed("type=request") == set() and listed("emergency=1") == set()
    service.add_facts(actors["first_line"], other, {"note": "核心业务受影响", "core_business_impact": "yes"})
    assert listed("emergency=1") == {f"INC{other:06d}"}


def test_the_fault_notification_shows_its_own_window_first(desk, as_role, clock):
    incident_id = desk.register(registration(complaints=50))  # yellow: notify within 30 minutes
    client = as_role("incident_manager")
    inbox = client.get("/inbox").get_data(as_text=True)
    row = inbox[inbox.index("故障通报") - 600 : inbox.index("故障通报")]
    assert "剩余 30分钟" in row and "本任务时限" in row  # not the incident's 24 hours
    task = desk.task(incident_id, "notify_fault")
    page = client.get(f"/tasks/{incident_id}/{task.id}").get_data(as_text=True)
    assert 'data-testid="task-due"' in page and "2026-03-02 09:30" in page  # Asia/Shanghai

    clock.tick(timedelta(minutes=25))  # past 80% of the window: amber
    inbox = client.get("/inbox").get_data(as_text=True)
    row = inbox[inbox.index("故障通报") - 600 : inbox.index("故障通报")]
    assert "剩余 5分钟" in row and "deadline-warning" in row
    clock.tick(timedelta(minutes=20))
    inbox = client.get("/inbox").get_data(as_text=True)
    row = inbox[inbox.index("故障通报") - 600 : inbox.index("故障通报")]
    assert "已超时 15分钟" in row and "deadline-breached" in row


def test_a_fault_is_registered_only_with_core_business_impact_answered(as_role, desk):
    client = as_role("service_desk")
    form = {
        "incident.title": "账务模块报错",
        "incident.description": "出账时报空指针",
        "incident.source": "monitoring",
        "facts.type": "fault",
        "facts.fault_category": "application",
        "facts.hq_consequence": "none",
    }
    response = client.post("/incidents/new", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = page[page.index('data-field="facts.core_business_impact"') :][:2000]
    assert "是否影响核心业务" in field and "必填" in field
    assert all(f'value="{value}"' in field for value in ("yes", "no", "unknown"))
    assert all(text in field for text in ("是", "否", "不确定"))
    # not asked of a consultation
    consultation = {**form, "facts.type": "consultation"}
    del consultation["facts.fault_category"]
    assert client.post("/incidents/new", consultation).status_code == 302


def test_an_owed_notification_is_waived_on_its_form_only_once_resolved(desk, as_role):
    incident_id = desk.register(registration(complaints=50))  # yellow: a notification is owed
    task = desk.task(incident_id, "notify_fault")
    client = as_role("incident_manager")
    url = f"/tasks/{incident_id}/{task.id}"
    form = client.get(url).get_data(as_text=True)
    assert "通报结果" in form and "已通报" in form and "免于通报（须说明原因）" in form and "免于通报的原因" in form
    waiver = {"spec_id": "notify_fault", "notification.outcome": "waived",
              "notification.waiver_reason": "故障 5 分钟内恢复，未对外造成影响"}  # fmt: skip
    refused = client.post(url, waiver)
    assert refused.status_code == 422
    field = refused.get_data(as_text=True)
    field = field[field.index('data-field="notification.outcome"') :][:1500]
    assert "事件解决后才能免于故障通报" in field

    desk.complete("service_desk", incident_id, "initial_support", resolved())
    page = client.get("/manager/").get_data(as_text=True)
    assert url in section(page, "manager-tasks")  # still with the manager after the resolution
    assert client.post(url, waiver).status_code == 302
    record = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "免于通报（须说明原因）" in record and "故障 5 分钟内恢复，未对外造成影响" in record


def test_the_service_desk_follows_up_an_unanswered_confirmation_on_its_form(desk, service, clock, as_role):
    incident_id = desk.register(registration("consultation"))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    clock.move_to(desk.incident(incident_id).next_timer_due + timedelta(minutes=1))  # 3 working days on
    service.fire_due_timers()
    client = as_role("service_desk")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "回访确认" in row_of(inbox, number(incident_id))
    task = desk.task(incident_id, "follow_up_confirmation")
    form = client.get(f"/tasks/{incident_id}/{task.id}").get_data(as_text=True)
    for text in ("回访结果", "客户电话确认已解决", "客户反馈未解决", "未回复，默认关闭", "回访记录"):
        assert text in form
    response = client.post(f"/tasks/{incident_id}/{task.id}", {"spec_id": "follow_up_confirmation",
                           "confirmation.answer": "no_reply"})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "已关闭" in page and "未回复，默认关闭" in page
    assert "确认超时未回复" in page  # on the timeline

    reports = as_role("incident_manager").get("/reports/").get_data(as_text=True)
    closed = row_of(section(reports, "closures"), "未回复，默认关闭")
    assert ">1<" in closed
