"""Each role reads the incident the way they would, on a desk's screen (1280×800) and on a phone
(390×844): what the step before them wrote is on their page, the requester sees their side of it
and nothing internal, and the phone's pages fit the screen with a menu that works."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.steps import TASK_FORM, choose, inbox_row
from tests.driver import Desk, noted, pass_on, registration

DESCRIPTION = "三个营业厅缴费后余额不更新\n涉及区县：东城、西城、南城"
DESK_NOTES = "已查接口日志：余额同步超时"
LINE_NOTES = "重启同步进程无效，需开发排查"


def handed_to_development(desk: Desk) -> int:
    data = {
        "incident": {"title": "缴费后余额不更新", "description": DESCRIPTION, "source": "hotline",
                     "contact": "张伟 13800000000", "system": "计费"},
        "facts": {"type": "fault", "fault_category": "application", "core_business_impact": "no", "complaints": 30},
        "on_spot": {"solved": False},
    }  # fmt: skip
    incident_id = desk.register(data)
    desk.complete("service_desk", incident_id, "initial_support", noted(pass_on("first_line"), DESK_NOTES))
    desk.complete("first_line", incident_id, "first_line_handling",
                  noted(pass_on("second_line", "development"), LINE_NOTES))  # fmt: skip
    return incident_id


WIDER_THAN_THE_SCREEN = """() => Array.from(document.querySelectorAll("body *"))
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(el => el.tagName + "." + el.className)"""


def fits(page: Page) -> None:
    """Nothing runs off the side of the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(WIDER_THAN_THE_SCREEN)
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide: {wide}"


def test_each_role_reads_what_they_need_on_a_desk_screen(open_as, live_server, desk, db, actors):
    incident_id = handed_to_development(desk)

    developer = open_as("second_line_dev", viewport=DESKTOP)
    developer.goto(f"{live_server}/inbox")
    inbox_row(developer, incident_id).get_by_role("link", name="二线尝试解决").click()
    expect(developer.locator(TASK_FORM)).to_be_visible()
    record = developer.get_by_test_id("summary")
    expect(record.locator('[data-answer="incident.description"]')).to_have_text(DESCRIPTION)
    expect(record).to_contain_text("张伟 13800000000")
    expect(developer.get_by_test_id("facts")).to_contain_text("service_desk user")
    steps = developer.get_by_test_id("timeline").locator('li[data-kind="task_completed"]')
    expect(steps.first).to_contain_text(LINE_NOTES)  # the newest step first: first line's diagnosis
    expect(developer.get_by_test_id("timeline")).to_contain_text(DESK_NOTES)
    choose(developer, "handling.outcome", "resolved")
    choose(developer, "handling.solution_kind", "resolved")
    developer.fill('[name="handling.solution"]', "修复余额同步的分区锁\n已补推消息")
    developer.get_by_role("button", name="提交处理结果").click()
    expect(developer.locator(".flash-success")).to_be_visible()

    requester = open_as("requester", viewport=DESKTOP)
    requester.goto(f"{live_server}/portal/")
    requester.get_by_test_id("confirmations").get_by_role("link", name="确认解决结果").click()
    expect(requester.get_by_test_id("solution")).to_contain_text("修复余额同步的分区锁")
    expect(requester.locator('[name="confirmation.on_behalf"]')).to_have_count(0)  # the desk's box
    expect(requester.get_by_role("button", name="释放")).to_have_count(0)
    body = requester.locator("main")
    for internal in (DESK_NOTES, LINE_NOTES, "second_line_dev user", "当次故障累计投诉数"):
        expect(body).not_to_contain_text(internal)
    choose(requester, "confirmation.resolved", "false")
    requester.fill('[name="confirmation.comment"]', "东城营业厅仍不更新")
    requester.get_by_role("button", name="提交确认").click()
    expect(requester.locator(".flash-success")).to_be_visible()
    expect(requester.get_by_test_id("timeline")).to_contain_text("东城营业厅仍不更新")

    # the reopened step is back with the developer who resolved it
    developer.goto(f"{live_server}/inbox?mine=1")
    expect(inbox_row(developer, incident_id)).to_contain_text("second_line_dev user")

    manager = open_as("incident_manager", viewport=DESKTOP)
    manager.goto(f"{live_server}/incidents/{incident_id}")
    manager.get_by_test_id("designate").locator("summary").click()
    manager.fill("#f-note", "三个营业厅受影响，领导要求紧急处理")
    manager.get_by_test_id("designate").get_by_role("button", name="认定为紧急事件").click()
    expect(manager.get_by_test_id("summary").locator(".badge.emergency")).to_be_visible()
    manager.fill('[name="announcement"]', "余额同步故障，正在抢修")
    manager.get_by_role("button", name="发布公告").click()
    expect(manager.get_by_test_id("announcement")).to_contain_text("余额同步故障，正在抢修")

    auditor = open_as("auditor", viewport=DESKTOP)
    auditor.goto(f"{live_server}/audit/incidents/{incident_id}")
    expect(auditor.get_by_test_id("summary").locator('[data-answer="incident.description"]')).to_have_text(DESCRIPTION)
    expect(auditor.get_by_test_id("audit-history")).to_contain_text(LINE_NOTES)

    leader = open_as("leadership", viewport=DESKTOP)
    leader.goto(f"{live_server}/incidents/{incident_id}")
    expect(leader.get_by_test_id("timeline")).to_contain_text("余额同步故障，正在抢修")
    expect(leader.locator("form[data-task-form]")).to_have_count(0)
    for page in (developer, requester, manager, auditor, leader):
        fits(page)


def test_on_a_phone_every_page_fits_and_the_menu_works(open_as, live_server, desk, db):
    incident_id = handed_to_development(desk)

    clerk = open_as("service_desk", viewport=PHONE)
    clerk.goto(f"{live_server}/incidents/{incident_id}")
    expect(clerk.locator(".mainnav")).to_be_hidden()  # folded behind the menu button
    clerk.get_by_role("button", name=re.compile("菜单")).tap()
    clerk.locator(".mainnav").get_by_role("link", name=re.compile("我的任务")).tap()
    expect(clerk).to_have_url(f"{live_server}/inbox")
    fits(clerk)
    clerk.goto(f"{live_server}/incidents/new")
    fits(clerk)

    developer = open_as("second_line_dev", viewport=PHONE)
    developer.goto(f"{live_server}/inbox")
    link = inbox_row(developer, incident_id).get_by_role("link", name="二线尝试解决")
    box = link.bounding_box()
    assert box["width"] > box["height"] * 3, box  # the task's name on one line, not one character per line
    fits(developer)
    link.tap()
    expect(developer.locator(TASK_FORM)).to_be_visible()
    fits(developer)
    expect(developer.get_by_test_id("timeline")).to_contain_text(LINE_NOTES)
    developer.goto(f"{live_server}/incidents/{incident_id}")
    record_top = developer.get_by_test_id("summary").bounding_box()["y"]
    assert record_top < developer.get_by_test_id("timeline-card").bounding_box()["y"]  # the record first
    fits(developer)

    solved = {"outcome": "resolved", "solution_kind": "resolved", "solution": "修复同步"}
    desk.complete("second_line_dev", incident_id, "second_line_handling", {"handling": solved})
    requester = open_as("requester", viewport=PHONE)
    requester.goto(f"{live_server}/portal/")
    fits(requester)
    requester.get_by_test_id("confirmations").get_by_role("link", name="确认解决结果").tap()
    expect(requester.locator(TASK_FORM)).to_be_visible()
    fits(requester)
    choose(requester, "confirmation.resolved", "true")
    requester.get_by_role("button", name="提交确认").tap()
    expect(requester.get_by_test_id("summary")).to_contain_text("已确认，待关闭")
    fits(requester)

    manager = open_as("incident_manager", viewport=PHONE)
    manager.goto(f"{live_server}/manager/")
    fits(manager)
    emergency = desk.register(registration(complaints=60, core_business_impact="yes"))  # yellow: notify too
    for spec in ("coordinate_emergency", "notify_fault"):  # the longest forms' choices and help texts
        manager.goto(f"{live_server}/tasks/{emergency}/{desk.task(emergency, spec).id}")
        expect(manager.locator(TASK_FORM)).to_be_visible()
        fits(manager)
    clerk.goto(f"{live_server}/tasks/{emergency}/{desk.task(emergency, 'coordinate_emergency').id}")
    fits(clerk)  # a form a handler only reads
