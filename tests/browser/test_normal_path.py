"""The normal path to closure, in the browser, role by role; and a form corrected after errors."""

from __future__ import annotations

from playwright.sync_api import expect

from app.models import Incident


def choose(page, name, value):
    page.locator(f'[name="{name}"][value="{value}"]').check()


def open_task(page, live_server, task_name):
    page.goto(f"{live_server}/inbox")
    page.get_by_role("link", name=task_name).first.click()
    expect(page.locator("form[data-task-form]")).to_be_visible()


def test_registration_to_closure(open_as, live_server, db, actors):
    desk_page = open_as("service_desk")
    desk_page.goto(f"{live_server}/incidents/new")
    desk_page.select_option("#requester_id", str(actors["requester"].user_id))
    desk_page.fill('[name="incident.title"]', "营业厅缴费后余额不更新")
    desk_page.fill('[name="incident.description"]', "多个营业厅反馈")
    desk_page.select_option('[name="incident.source"]', "hotline")
    desk_page.select_option('[name="facts.type"]', "fault")
    expect(desk_page.locator('[name="facts.fault_category"]')).to_be_visible()  # shown for faults only
    desk_page.select_option('[name="facts.fault_category"]', "application")
    expect(desk_page.get_by_text("是否影响核心业务")).to_be_visible()  # asked for faults: 是 / 否 / 不确定
    choose(desk_page, "facts.core_business_impact", "no")
    desk_page.fill('[name="facts.complaints"]', "30")
    desk_page.click("button.primary")
    expect(desk_page.locator("h1")).to_contain_text("营业厅缴费后余额不更新")
    number = desk_page.locator("h1").inner_text().split()[0]
    expect(desk_page.get_by_test_id("reasons")).to_contain_text("轻微")

    # initial support: submitted without the required solution → errors beside the fields, typed text kept
    open_task(desk_page, live_server, "初始支持")
    choose(desk_page, "handling.outcome", "resolved")
    desk_page.fill('[name="handling.notes"]', "已查看日志")
    desk_page.locator("form[data-task-form] button.primary").click()
    expect(desk_page.locator('[data-field="handling.solution"] .error')).to_be_visible()
    expect(desk_page.locator('[name="handling.notes"]')).to_have_value("已查看日志")
    choose(desk_page, "handling.outcome", "pass_on")
    choose(desk_page, "handling.next_stage", "first_line")
    desk_page.locator("form[data-task-form] button.primary").click()
    expect(desk_page.locator(".flash-success")).to_be_visible()

    first_line = open_as("first_line")
    open_task(first_line, live_server, "一线尝试解决")
    choose(first_line, "handling.outcome", "resolved")
    choose(first_line, "handling.solution_kind", "resolved")
    first_line.fill('[name="handling.solution"]', "重启余额同步服务")
    first_line.locator("form[data-task-form] button.primary").click()
    expect(first_line.get_by_test_id("summary")).to_contain_text(number)

    requester = open_as("requester")
    requester.goto(f"{live_server}/incidents/{int(number.removeprefix('INC'))}")
    requester.get_by_role("link", name="确认解决结果").click()
    choose(requester, "confirmation.resolved", "true")
    requester.locator("form[data-task-form] button.primary").click()

    open_task(desk_page, live_server, "关闭事件")
    choose(desk_page, "closure.code", "resolved")
    choose(desk_page, "closure.follow_up", "none")
    desk_page.locator("form[data-task-form] button.primary").click()
    expect(desk_page.locator(".flash-success")).to_be_visible()
    with db.read() as session:
        incident = session.get(Incident, int(number.removeprefix("INC")))
    assert (incident.status, incident.closure_code) == ("closed", "resolved")
