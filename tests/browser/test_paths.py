"""The other paths through the process, in the browser, role by role: an emergency with an
announcement, a rejection by the requester that reopens, second-line routing to a group, the
requester portal, and the language switch."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Announcement, Incident, OpenTask, User
from app.users import create_user
from tests.browser.steps import (
    TASK_FORM,
    choose,
    close,
    confirm,
    field,
    inbox_row,
    incident_id_of,
    open_from_inbox,
    open_task_names,
    pass_on,
    register,
    resolve,
    submit_task,
)
from tests.conftest import FAST_HASH


def _incident(db, incident_id: int) -> Incident:
    with db.read() as session:
        return session.get(Incident, incident_id)


def _open_specs(db, incident_id: int) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(select(OpenTask.spec_id).where(OpenTask.incident_id == incident_id)))


def test_emergency_with_an_announcement(open_as, live_server, db):
    desk = open_as("service_desk")
    incident_id = register(desk, live_server, "核心计费系统无法出账", emergency=True)
    summary = desk.get_by_test_id("summary")
    expect(summary.locator(".badge.emergency")).to_be_visible()
    coordination_row = open_task_names(desk).filter(has_text="紧急事件处理")
    expect(coordination_row).to_have_count(1)
    manager_row = desk.get_by_test_id("open-tasks").locator("tbody tr").filter(has_text="紧急事件处理")
    expect(manager_row).to_contain_text("事件经理")
    assert _incident(db, incident_id).emergency is True

    manager = open_as("incident_manager")
    manager.goto(f"{live_server}/manager/")
    emergency_row = (
        manager.get_by_test_id("emergencies")
        .locator("tbody tr")
        .filter(has=manager.locator(f'a[href$="/incidents/{incident_id}"]'))
    )
    emergency_row.get_by_role("link", name="紧急事件处理").click()
    expect(manager.locator(TASK_FORM)).to_be_visible()
    expect(field(manager, "handling.announcement")).to_be_hidden()  # shown for announcements only
    choose(manager, "handling.outcome", "announce")
    expect(field(manager, "handling.announcement")).to_be_visible()
    announcement = "计费系统故障，正在紧急恢复，预计 30 分钟内恢复出账"
    manager.fill('[name="handling.announcement"]', announcement)
    submit_task(manager)
    expect(manager.get_by_test_id("announcement")).to_contain_text(announcement)
    with db.read() as session:
        texts = session.scalars(select(Announcement.text).where(Announcement.incident_id == incident_id))
        assert list(texts) == [announcement]

    leadership = open_as("leadership")
    leadership.goto(f"{live_server}/overview/")
    overview_row = (
        leadership.get_by_test_id("emergencies")
        .locator("tbody tr")
        .filter(has=leadership.locator(f'a[href$="/incidents/{incident_id}"]'))
    )
    expect(overview_row.locator(".announcement")).to_contain_text(announcement)

    # the coordination comes back to the manager after the announcement: resolve it from the console
    manager.goto(f"{live_server}/manager/")
    emergency_row.get_by_role("link", name="紧急事件处理").click()
    resolve(manager, "切换至备用计费节点并补出账")
    expect(manager.get_by_test_id("summary").locator(".badge.status-resolved")).to_be_visible()
    incident = _incident(db, incident_id)
    assert (incident.status, incident.resolution_kind) == ("resolved", "resolved")
    assert "confirm_resolution" in _open_specs(db, incident_id)


def test_rejection_by_the_requester_reopens(open_as, live_server, db, actors):
    desk = open_as("service_desk")
    incident_id = register(desk, live_server, "营业厅无法打印发票", requester_id=actors["requester"].user_id)
    open_from_inbox(desk, live_server, incident_id, "初始支持")
    resolve(desk, "清理打印队列")
    assert _incident(db, incident_id).status == "resolved"

    requester = open_as("requester")
    requester.goto(f"{live_server}/portal/")
    confirmations = requester.get_by_test_id("confirmations")
    row = confirmations.locator("tbody tr").filter(has=requester.locator(f'a[href$="/incidents/{incident_id}"]'))
    row.get_by_role("link", name="确认解决结果").click()
    expect(requester.locator(TASK_FORM)).to_be_visible()
    expect(field(requester, "confirmation.comment")).to_be_hidden()  # asked for with "not resolved" only
    choose(requester, "confirmation.resolved", "false")
    expect(field(requester, "confirmation.comment")).to_be_visible()
    confirm(requester, resolved=False, comment="仍然无法打印")

    desk.goto(f"{live_server}/inbox")
    expect(inbox_row(desk, incident_id).get_by_role("link", name="初始支持", exact=True)).to_be_visible()
    incident = _incident(db, incident_id)
    assert (incident.status, incident.reopen_count) == ("open", 1)
    desk.goto(f"{live_server}/incidents/{incident_id}")
    expect(desk.get_by_test_id("summary")).to_contain_text("1×")
    expect(desk.get_by_test_id("timeline")).to_contain_text("仍然无法打印")

    open_from_inbox(desk, live_server, incident_id, "初始支持")
    resolve(desk, "更换打印机驱动")

    requester.goto(f"{live_server}/portal/")
    row.get_by_role("link", name="确认解决结果").click()
    confirm(requester, resolved=True)

    open_from_inbox(desk, live_server, incident_id, "关闭事件")
    close(desk)
    expect(desk.get_by_test_id("summary").locator(".badge.status-closed")).to_be_visible()
    incident = _incident(db, incident_id)
    assert (incident.status, incident.reopen_count, incident.closure_code) == ("closed", 1, "resolved")


def test_second_line_routing_to_a_group(open_as, live_server, db):
    desk = open_as("service_desk")
    incident_id = register(desk, live_server, "积分兑换接口报错")
    open_from_inbox(desk, live_server, incident_id, "初始支持")
    pass_on(desk, "first_line")

    first_line = open_as("first_line")
    open_from_inbox(first_line, live_server, incident_id, "一线尝试解决")
    # conditional display: where to pass on appears with "pass on", the group with "second line"
    choose(first_line, "handling.outcome", "resolved")
    expect(field(first_line, "handling.next_stage")).to_be_hidden()
    expect(field(first_line, "handling.group")).to_be_hidden()
    expect(field(first_line, "handling.solution")).to_be_visible()
    choose(first_line, "handling.outcome", "pass_on")
    expect(field(first_line, "handling.solution")).to_be_hidden()
    expect(field(first_line, "handling.next_stage")).to_be_visible()
    expect(field(first_line, "handling.group")).to_be_hidden()
    choose(first_line, "handling.next_stage", "incident_manager")
    expect(field(first_line, "handling.group")).to_be_hidden()
    choose(first_line, "handling.next_stage", "second_line")
    expect(field(first_line, "handling.group")).to_be_visible()
    choose(first_line, "handling.group", "test")
    submit_task(first_line)
    incident = _incident(db, incident_id)
    assert (incident.current_stage, incident.current_group) == ("second_line", "test")

    dev = open_as("second_line_dev")
    assert dev.goto(f"{live_server}/inbox").status == 200
    expect(dev.locator(f'a[href$="/incidents/{incident_id}"]')).to_have_count(0)

    test_group = open_as("second_line_test")
    open_from_inbox(test_group, live_server, incident_id, "二线尝试解决")
    resolve(test_group, "修正积分兑换接口的测试环境配置")
    expect(test_group.get_by_test_id("summary").locator(".badge.status-resolved")).to_be_visible()
    assert _incident(db, incident_id).status == "resolved"


def test_handler_form_starts_without_the_previous_decision(open_as, live_server, db):
    desk = open_as("service_desk")
    incident_id = register(desk, live_server, "短信下发延迟")
    open_from_inbox(desk, live_server, incident_id, "初始支持")
    pass_on(desk, "first_line")
    first_line = open_as("first_line")
    open_from_inbox(first_line, live_server, incident_id, "一线尝试解决")
    pass_on(first_line, "second_line", "test")

    test_group = open_as("second_line_test")
    open_from_inbox(test_group, live_server, incident_id, "二线尝试解决")
    expect(test_group.locator(f'{TASK_FORM} [name="handling.outcome"]:checked')).to_have_count(0, timeout=1000)


def test_requester_portal(open_as, live_server, db):
    requester = open_as("requester")
    requester.goto(f"{live_server}/portal/new")
    title = "自助提单：手机营业厅无法登录"
    requester.fill('[name="incident.title"]', title)
    requester.fill('[name="incident.description"]', "输入验证码后提示系统繁忙")
    requester.fill('[name="incident.system"]', "手机营业厅")
    requester.fill('[name="incident.contact"]', "张伟 13800000000")
    requester.locator("form button.primary").click()
    incident_id = incident_id_of(requester)
    expect(requester.locator(".flash-success")).to_be_visible()
    expect(requester.get_by_test_id("summary").locator(".badge.status-new")).to_be_visible()

    requester.goto(f"{live_server}/portal/")
    mine = (
        requester.get_by_test_id("my-incidents")
        .locator("tbody tr")
        .filter(has=requester.locator(f'a[href$="/incidents/{incident_id}"]'))
    )
    expect(mine).to_contain_text(title)
    expect(mine.locator(".badge.status-new")).to_be_visible()

    desk = open_as("service_desk")
    desk.goto(f"{live_server}/inbox")
    expect(inbox_row(desk, incident_id).get_by_role("link", name="事件登记", exact=True)).to_be_visible()
    expect(inbox_row(desk, incident_id)).to_contain_text(title)
    assert _open_specs(db, incident_id) == ["register_incident"]

    with db.transaction() as session:
        create_user(session, "requester2", "password123", ["requester"], hash_method=FAST_HASH)
    other = open_as("requester2")
    response = other.goto(f"{live_server}/incidents/{incident_id}")
    assert response.status == 404
    expect(other.locator("body")).not_to_contain_text(title)
    expect(other.get_by_test_id("summary")).to_have_count(0)
    other.goto(f"{live_server}/portal/")
    expect(other.locator(f'a[href$="/incidents/{incident_id}"]')).to_have_count(0)


def test_language_switch(open_as, live_server, db):
    desk = open_as("service_desk")
    desk.goto(f"{live_server}/inbox")
    nav = desk.locator("nav.mainnav")
    expect(nav).to_contain_text("我的任务")
    inbox_link = nav.locator('a[href$="/inbox"]')

    desk.select_option('select[name="locale"]', "en")
    expect(desk.locator("html")).to_have_attribute("lang", "en")
    expect(inbox_link).to_contain_text("My tasks")
    expect(nav).not_to_contain_text("我的任务")
    assert desk.url.endswith("/inbox")  # back on the same page
    with db.read() as session:
        assert session.scalar(select(User.locale).where(User.username == "service_desk")) == "en"

    desk.goto(f"{live_server}/incidents/new")  # the choice is kept from page to page
    expect(inbox_link).to_contain_text("My tasks")

    desk.select_option('select[name="locale"]', "zh")
    expect(desk.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(inbox_link).to_contain_text("我的任务")
    expect(nav).not_to_contain_text("My tasks")
