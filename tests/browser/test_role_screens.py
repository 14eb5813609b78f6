"""The screens a role acts on, read the way that person reads them before acting: the incident's
title and description, its level and deadline, who holds it, and what the step before wrote — then
the action, and what the next reader sees of it. (Earlier steps go through the service on the real
clock; the browser keeps real time.)"""

from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time
from playwright.sync_api import Page, expect

from app.incidents.service import IncidentService
from app.tallies import service as tallies
from tests.browser.steps import TASK_FORM, choose, field, inbox_row
from tests.driver import Desk, noted, number, pass_on, resolved

TITLE = "账务模块出账报错"
DESCRIPTION = "本月出账批次在账务模块报空指针\n影响地市：东城、西城"
DESK_NOTES = "已查出账日志：规则表缺少新套餐"


def registered(desk: Desk, **facts) -> int:
    facts = {"type": "fault", "fault_category": "application", "core_business_impact": "no", **facts}
    data = {"incident": {"title": TITLE, "description": DESCRIPTION, "source": "hotline", "system": "账务"},
            "facts": facts, "on_spot": {"solved": False}}  # fmt: skip
    return desk.register(data)


def reads_the_incident(page: Page, *, level: str, holder: str | None = None, previous: str | None = None) -> None:
    """What anyone acting on an incident reads first: its title and description, level, deadline, who
    holds it, and the previous step's written work on the timeline."""
    summary = page.get_by_test_id("summary")
    expect(summary.get_by_test_id("record-title")).to_have_text(TITLE)
    expect(summary.locator('[data-answer="incident.description"]')).to_have_text(DESCRIPTION)
    expect(summary.locator(".facts .badge[class*='level-']")).to_have_text(level)
    expect(summary.get_by_test_id("clock")).to_contain_text(":")  # a deadline with its time, not "—"
    if holder:
        expect(summary).to_contain_text(holder)
    if previous:
        expect(page.get_by_test_id("timeline")).to_contain_text(previous)


def test_second_line_reports_the_change_done(open_as, live_server, desk):
    incident_id = registered(desk, complaints=20)
    desk.complete("service_desk", incident_id, "initial_support",
                  noted(pass_on("second_line", "information_systems"), DESK_NOTES))  # fmt: skip
    change = {"outcome": "change", "change_kind": "requirement", "change_reference": "REQ-77",
              "notes": "需在账务规则表中新增套餐，提需求 REQ-77"}  # fmt: skip
    desk.complete("second_line_is", incident_id, "second_line_handling", {"handling": change})

    handler = open_as("second_line_is")
    handler.goto(f"{live_server}/incidents/{incident_id}")
    reads_the_incident(handler, level="轻微", previous="需在账务规则表中新增套餐，提需求 REQ-77")
    expect(handler.get_by_test_id("timeline")).to_contain_text(DESK_NOTES)
    expect(handler.get_by_test_id("summary").locator(".badge.status-waiting_change")).to_be_visible()
    box = handler.get_by_test_id("change-done")
    expect(box).to_contain_text("需求处理流程")  # what it waits for, and which one
    expect(box).to_contain_text("REQ-77")
    handler.fill("#change-note", "REQ-77 已于今晚上线")
    box.get_by_role("button", name="变更已完成").click()
    expect(handler.locator(".flash-success")).to_contain_text("变更已完成")
    expect(handler.get_by_test_id("change-done")).to_have_count(0)
    expect(handler.get_by_test_id("summary").locator(".badge.status-open")).to_be_visible()
    expect(handler.get_by_test_id("timeline")).to_contain_text("REQ-77 已于今晚上线")

    # back with the group that transferred it: the step is in its inbox, with the note to read
    handler.goto(f"{live_server}/inbox")
    row = inbox_row(handler, incident_id)
    expect(row).to_contain_text(TITLE)
    row.get_by_role("link", name="二线尝试解决").click()
    expect(handler.locator(TASK_FORM)).to_be_visible()
    reads_the_incident(handler, level="轻微", previous="REQ-77 已于今晚上线")


def test_leadership_reads_the_overview_demands_urgent_handling_and_writes_to_the_handlers(
    open_as, live_server, desk, actors
):
    incident_id = registered(desk, complaints=20)
    task = desk.task(incident_id, "initial_support")
    desk.service.claim(actors["service_desk"], incident_id, task.id)
    desk.complete("service_desk", incident_id, "initial_support", noted(pass_on("first_line"), DESK_NOTES))
    first_line = desk.task(incident_id, "first_line_handling")
    desk.service.claim(actors["first_line"], incident_id, first_line.id)

    tallies.count(desk.db)  # what the timer worker does every TALLY_SECONDS

    leader = open_as("leadership")
    leader.goto(f"{live_server}/overview/")
    expect(leader.get_by_test_id("headline").locator('[data-stat="open"] .value')).to_have_text("1")
    # the breakdowns, and when they were counted (a count of the timer worker, not of this request)
    expect(leader.get_by_test_id("counted-at")).to_contain_text("统计于")
    expect(leader.get_by_test_id("by-level").locator('[data-stat="minor"] .value')).to_have_text("1")
    expect(leader.get_by_test_id("by-status").locator('[data-stat="open"] .value')).to_have_text("1")
    expect(leader.get_by_test_id("today")).to_contain_text(TITLE)
    leader.get_by_test_id("today").get_by_role("link", name=number(incident_id)).click()
    reads_the_incident(leader, level="轻微", holder="first_line user", previous=DESK_NOTES)
    expect(leader.locator(TASK_FORM)).to_have_count(0)  # read-only otherwise

    # a coordination note while first line holds it, then the demand
    card = leader.get_by_test_id("leadership")
    card.locator("summary", has_text="协调意见").click()
    leader.fill("#coordination-note", "已请网络部同步排查专线")
    card.get_by_role("button", name="发表意见").click()
    expect(leader.locator(".flash-success")).to_contain_text("协调意见")
    note = leader.get_by_test_id("timeline").locator("li", has_text="已请网络部同步排查专线")
    expect(note).to_contain_text("协调意见")

    card = leader.get_by_test_id("leadership")
    card.locator("summary", has_text="要求紧急处理").click()
    leader.fill("#urgent-reason", "多个地市无法出账，请立即组织处理")
    card.get_by_role("button", name="要求紧急处理").click()
    expect(leader.locator(".flash-success")).to_be_visible()
    expect(leader.get_by_test_id("summary").locator(".badge.emergency")).to_be_visible()
    expect(leader.get_by_test_id("timeline")).to_contain_text("多个地市无法出账，请立即组织处理")
    leader.goto(f"{live_server}/overview/")
    expect(leader.get_by_test_id("emergencies")).to_contain_text(TITLE)  # now among the emergencies

    # the incident manager and the handler who held a step then were told: in their inbox, with the note
    for role in ("incident_manager", "first_line"):
        handler = open_as(role)
        handler.goto(f"{live_server}/inbox")
        mentioned = handler.get_by_test_id("mentioned")
        expect(mentioned).to_contain_text("已请网络部同步排查专线")
        mentioned.get_by_role("link", name=number(incident_id)).first.click()
        note = handler.get_by_test_id("timeline").locator("li", has_text="已请网络部同步排查专线")
        expect(note).to_contain_text("协调意见")
        expect(note).to_contain_text("leadership user")
    requester = open_as("requester")
    response = requester.goto(f"{live_server}/incidents/{incident_id}")
    assert response.status == 404 or "已请网络部同步排查专线" not in requester.content()  # internal


def test_the_manager_takes_a_problem_ticket_through_its_lifecycle(open_as, live_server, desk, actors):
    incident_id = registered(desk, complaints=20)
    desk.complete("service_desk", incident_id, "initial_support", resolved("workaround", "手工补推出账批次"))
    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    closure = {"code": "workaround", "follow_up": "problem", "follow_up_title": "出账规则表缺新套餐"}
    desk.complete("service_desk", incident_id, "close_incident", {"closure": closure})

    manager = open_as("incident_manager")
    manager.goto(f"{live_server}/")
    manager.locator(".mainnav").get_by_role("link", name="问题单").click()
    row = manager.get_by_test_id("problem-tickets").locator("tbody tr", has_text="出账规则表缺新套餐")
    expect(row).to_contain_text("新建")
    expect(row).to_contain_text("暂无")  # nobody owns it yet
    expect(row).to_contain_text(number(incident_id))
    row.locator('a[href^="/problems/"]').click()

    # the incident it came from, with what was written there: the description and the workaround
    incidents = manager.get_by_test_id("problem-incidents")
    expect(incidents).to_contain_text(TITLE)
    incidents.get_by_role("link", name=number(incident_id)).click()
    reads_the_incident(manager, level="轻微", previous="手工补推出账批次")
    manager.go_back()

    form = manager.get_by_test_id("problem-update")
    form.locator("#status").select_option("investigating")
    form.locator("#owner_id").select_option(str(actors["second_line_dev"].user_id))
    form.get_by_role("button", name="保存").click()
    expect(manager.locator(".flash-success")).to_be_visible()
    ticket = manager.get_by_test_id("problem")
    expect(ticket).to_contain_text("调查中")
    expect(ticket).to_contain_text("second_line_dev user")

    form = manager.get_by_test_id("problem-update")
    form.locator("#status").select_option("known_error")
    form.get_by_role("button", name="保存").click()  # a known error needs its workaround
    expect(manager.get_by_test_id("problem-update").locator(".error")).to_contain_text("变通方案")
    form = manager.get_by_test_id("problem-update")
    form.locator("#status").select_option("known_error")
    manager.fill("#workaround", "出账前手工补录套餐规则")
    form.get_by_role("button", name="保存").click()
    expect(manager.get_by_test_id("problem")).to_contain_text("出账前手工补录套餐规则")

    form = manager.get_by_test_id("problem-update")
    form.locator("#status").select_option("closed")
    manager.fill("#problem-note", "规则表已由 REQ-80 补齐")
    form.get_by_role("button", name="保存").click()
    expect(manager.get_by_test_id("problem")).to_contain_text("已关闭")
    expect(manager.get_by_test_id("problem-update").locator("#status option")).to_have_count(1)  # final

    # the handler reads the ticket from the incident; leadership reads the list, and changes nothing
    developer = open_as("second_line_dev")
    developer.goto(f"{live_server}/incidents/{incident_id}")
    developer.get_by_test_id("summary").locator('a[href^="/problems/"]').click()
    expect(developer.get_by_test_id("problem")).to_contain_text("出账前手工补录套餐规则")
    expect(developer.get_by_test_id("problem-update")).to_have_count(0)
    leader = open_as("leadership")
    leader.goto(f"{live_server}/problems/")
    expect(leader.get_by_test_id("problem-tickets")).to_contain_text("已关闭")


def test_the_requester_reads_the_resolution_before_confirming_it(open_as, live_server, desk, actors):
    data = {"incident": {"title": TITLE, "description": DESCRIPTION, "source": "portal"},
            "facts": {"type": "fault", "fault_category": "application", "core_business_impact": "no", "complaints": 20},
            "on_spot": {"solved": False}}  # fmt: skip
    incident_id = desk.register(data)
    desk.complete("service_desk", incident_id, "initial_support",
                  noted(resolved("resolved", "已补录套餐规则并重新出账"), DESK_NOTES))  # fmt: skip

    requester = open_as("requester")
    requester.goto(f"{live_server}/portal/")
    row = requester.get_by_test_id("confirmations").locator("tbody tr", has_text=TITLE)
    row.get_by_role("link", name="确认解决结果").click()
    expect(requester.locator(TASK_FORM)).to_be_visible()
    expect(requester.locator("main")).to_contain_text(TITLE)
    expect(requester.locator("main")).to_contain_text("本月出账批次在账务模块报空指针")  # what they reported
    expect(requester.get_by_test_id("solution")).to_contain_text("已补录套餐规则并重新出账")
    expect(requester.locator("main")).not_to_contain_text(DESK_NOTES)  # the desk's internal notes
    choose(requester, "confirmation.resolved", "false")
    expect(field(requester, "confirmation.comment")).to_be_visible()
    requester.fill('[name="confirmation.comment"]', "西城仍未出账")
    requester.get_by_role("button", name="提交确认").click()
    expect(requester.locator(".flash-success")).to_be_visible()
    expect(requester.get_by_test_id("timeline")).to_contain_text("西城仍未出账")

    # the reopened step: the desk reads why before working on it again
    clerk = open_as("service_desk")
    clerk.goto(f"{live_server}/inbox")
    inbox_row(clerk, incident_id).get_by_role("link", name="初始支持", exact=True).click()
    reads_the_incident(clerk, level="轻微", previous="西城仍未出账")
    expect(clerk.get_by_test_id("summary")).to_contain_text("1×")


def test_the_manager_waives_the_fault_notice_of_a_resolved_fault(open_as, live_server, desk):
    incident_id = registered(desk, complaints=50)  # yellow: a fault notice is owed
    solved = noted(resolved("resolved", "重启出账进程"), DESK_NOTES)
    desk.complete("service_desk", incident_id, "initial_support", solved)
    task = desk.task(incident_id, "notify_fault")

    manager = open_as("incident_manager")
    manager.goto(f"{live_server}/manager/")
    manager.get_by_test_id("manager-tasks").locator(f'a[href="/tasks/{incident_id}/{task.id}"]').click()
    expect(manager.locator(TASK_FORM)).to_be_visible()
    reads_the_incident(manager, level="黄色", previous="重启出账进程")
    expect(field(manager, "notification.waiver_reason")).to_be_hidden()  # asked for with a waiver only
    choose(manager, "notification.outcome", "waived")
    expect(field(manager, "notification.waiver_reason")).to_be_visible()
    manager.fill('[name="notification.waiver_reason"]', "故障 5 分钟内恢复，未对外造成影响")
    manager.locator(f"{TASK_FORM} button.primary").click()
    expect(manager.locator(".flash-success")).to_be_visible()
    step = manager.get_by_test_id("timeline").locator('li[data-kind="task_completed"]').first
    expect(step).to_contain_text("免于通报（须说明原因）")
    expect(step).to_contain_text("故障 5 分钟内恢复，未对外造成影响")


def test_first_line_adds_facts_and_forwards_then_the_manager_tracks(open_as, live_server, desk, actors):
    incident_id = registered(desk, complaints=20)
    desk.complete("service_desk", incident_id, "initial_support", noted(pass_on("first_line"), DESK_NOTES))
    desk.service.claim(actors["first_line"], incident_id, desk.task(incident_id, "first_line_handling").id)

    handler = open_as("first_line")
    handler.goto(f"{live_server}/incidents/{incident_id}")
    reads_the_incident(handler, level="轻微", holder="first_line user", previous=DESK_NOTES)
    handler.locator("summary", has_text="补充事实（重新分类）").click()
    handler.fill('[name="update.affected_users"]', "900000")  # more than the province carries
    handler.fill('[name="update.total_users"]', "500000")
    handler.fill('[name="update.note"]', "投诉量激增，多个营业厅反映")
    handler.get_by_role("button", name="补充事实", exact=True).click()
    # refused on its own page: which incident, and what is wrong beside the field
    expect(handler.locator("h1")).to_contain_text(TITLE)
    expect(handler.locator("main")).to_contain_text("影响用户数（900000）不能超过省份承载用户数（500000）")
    handler.fill('[name="update.affected_users"]', "")
    handler.fill('[name="update.total_users"]', "")
    handler.fill('[name="update.complaints"]', "50")
    expect(handler.locator('[name="update.note"]')).to_have_value("投诉量激增，多个营业厅反映")  # kept
    handler.get_by_role("button", name="补充事实", exact=True).click()
    expect(handler.locator(".flash-success")).to_contain_text("轻微 → 黄色")
    reads_the_incident(handler, level="黄色", previous="投诉量激增，多个营业厅反映")
    expect(handler.get_by_test_id("summary").locator(".badge.emergency")).to_have_count(0)  # still first line's

    handler.locator("summary", has_text="转发事件经理跟踪").click()
    handler.fill("#forward-note", "请协调账务开发排查规则表")
    handler.get_by_role("button", name="转发", exact=True).click()
    expect(handler.locator(".flash-success")).to_contain_text("事件经理将跟踪此事件")

    manager = open_as("incident_manager")
    manager.goto(f"{live_server}/manager/")
    task = desk.task(incident_id, "track_incident")
    manager.get_by_test_id("manager-tasks").locator(f'a[href="/tasks/{incident_id}/{task.id}"]').click()
    expect(manager.locator(TASK_FORM)).to_be_visible()
    reads_the_incident(manager, level="黄色", holder="first_line user", previous="请协调账务开发排查规则表")
    expect(manager.get_by_test_id("timeline")).to_contain_text("投诉量激增，多个营业厅反映")
    choose(manager, "tracking.action", "coordinated")
    manager.fill('[name="tracking.note"]', "已约账务开发今晚排查")
    manager.locator(f"{TASK_FORM} button.primary").click()
    expect(manager.locator(".flash-success")).to_be_visible()
    expect(manager.get_by_test_id("timeline")).to_contain_text("已约账务开发今晚排查")


def test_the_manager_designates_an_emergency_from_the_console(open_as, live_server, desk):
    incident_id = registered(desk, complaints=20)
    desk.complete("service_desk", incident_id, "initial_support", noted(pass_on("first_line"), DESK_NOTES))

    manager = open_as("incident_manager")
    manager.goto(f"{live_server}/manager/")
    console = manager.get_by_test_id("designate-form")
    console.locator("#designate-incident").fill(number(incident_id))
    console.get_by_role("button", name="认定为紧急事件").click()
    # no reason yet: the designation page shows the incident beside the form, to decide on
    form = manager.get_by_test_id("designate-form")
    expect(form.locator(".has-error")).to_contain_text("认定为紧急事件的原因")
    expect(form.locator("#designate-incident")).to_have_value(number(incident_id))
    reads_the_incident(manager, level="轻微", holder="一线")
    form.locator("#designate-note").fill("多个营业厅无法出账，影响扩大")
    form.get_by_role("button", name="认定为紧急事件").click()
    expect(manager.locator(".flash-success")).to_contain_text(f"{number(incident_id)} 已认定为紧急事件")
    expect(manager.get_by_test_id("summary").locator(".badge.emergency")).to_be_visible()
    reads_the_incident(manager, level="轻微", previous="多个营业厅无法出账，影响扩大")
    expect(manager.get_by_test_id("open-tasks")).to_contain_text("紧急事件处理")
    manager.goto(f"{live_server}/manager/")
    expect(manager.get_by_test_id("emergencies")).to_contain_text(TITLE)


def test_a_handler_chooses_where_notifications_reach_them(open_as, live_server):
    clerk = open_as("service_desk")
    clerk.goto(f"{live_server}/notifications/preferences")
    form = clerk.get_by_test_id("preferences-form")
    expect(form.locator("thead")).to_contain_text("未填地址")  # no address for any channel yet
    mention = form.locator('tr[data-kind="mention"]')
    expect(mention).to_contain_text("角色默认")
    form.get_by_role("link", name="联系方式").click()
    contact = clerk.get_by_test_id("contact-form")
    contact.locator('[name="email"]').fill("clerk@example.com")
    contact.locator('[name="mobile"]').fill("13800000000")
    contact.get_by_role("button", name="保存").click()
    expect(clerk.locator(".flash-success")).to_contain_text("联系方式已保存")

    clerk.goto(f"{live_server}/notifications/preferences")
    form = clerk.get_by_test_id("preferences-form")
    form.locator('tr[data-kind="mention"] input[value="sms"]').check()
    clerk.fill("#quiet_starts", "22:00")  # and no end: refused beside the field, the choices kept
    form.get_by_role("button", name="保存").click()
    form = clerk.get_by_test_id("preferences-form")
    expect(form.locator(".has-error")).to_contain_text("请输入时间，如 22:00。")
    expect(form.locator('tr[data-kind="mention"] input[value="sms"]')).to_be_checked()
    clerk.fill("#quiet_ends", "07:00")
    form.get_by_role("button", name="保存").click()
    expect(clerk.locator(".flash-success")).to_contain_text("通知设置已保存")
    mention = clerk.get_by_test_id("preferences-form").locator('tr[data-kind="mention"]')
    expect(mention.locator('input[value="sms"]')).to_be_checked()
    expect(mention).not_to_contain_text("角色默认")
    expect(clerk.locator("#quiet_starts")).to_have_value("22:00")


def test_the_service_desk_follows_up_an_unanswered_confirmation(open_as, live_server, desk, db):
    incident_id = registered(desk, complaints=20)
    desk.complete("service_desk", incident_id, "initial_support",
                  noted(resolved("resolved", "已补录套餐规则并重新出账"), DESK_NOTES))  # fmt: skip
    due = desk.incident(incident_id).next_timer_due  # the requester has not answered in 3 working days
    with freeze_time(due + timedelta(minutes=1)):  # the engine reads its timers against the clock
        IncidentService(db).fire_due_timers()

    clerk = open_as("service_desk")
    clerk.goto(f"{live_server}/inbox")
    row = inbox_row(clerk, incident_id)
    expect(row).to_contain_text(TITLE)
    row.get_by_role("link", name="回访确认", exact=True).click()
    expect(clerk.locator(TASK_FORM)).to_be_visible()
    reads_the_incident(clerk, level="轻微", previous="已补录套餐规则并重新出账")  # the solution to ask about
    expect(clerk.get_by_test_id("summary")).to_contain_text("requester user")  # whom to call
    choose(clerk, "confirmation.answer", "resolved")
    clerk.locator(f"{TASK_FORM} button.primary").click()
    expect(clerk.locator(".flash-success")).to_be_visible()
    step = clerk.get_by_test_id("timeline").locator('li[data-kind="task_completed"]').first
    expect(step).to_contain_text("回访确认")
    expect(step).to_contain_text("客户电话确认已解决")
    expect(clerk.get_by_test_id("summary").locator(".badge.status-open")).to_have_count(0)
