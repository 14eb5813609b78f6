"""The administrator gives a new colleague an account and a role; the colleague signs in and works."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.driver import pass_on, registration


def test_admin_creates_an_account_that_signs_in_with_its_role(open_as, live_server, browser):
    admin = open_as("admin")
    admin.goto(f"{live_server}/admin/users/new")
    admin.fill('[name="username"]', "liuqiang")
    admin.fill('[name="display_name"]', "刘强（一线）")
    admin.fill('[name="password"]', "short")
    admin.locator('[name="roles"][value="first_line"]').check()
    admin.locator("button.primary").click()
    expect(admin.locator(".error").first).to_be_visible()  # the short password, beside its field
    admin.fill('[name="password"]', "a-good-password")
    admin.locator("button.primary").click()
    expect(admin.locator("body")).to_contain_text("刘强（一线）")

    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "liuqiang")
    page.fill("#password", "a-good-password")
    page.click("button.primary")
    expect(page).to_have_url(f"{live_server}/inbox")  # first line lands in its inbox
    expect(page.locator(".mainnav")).not_to_contain_text("用户")  # and has no administration menu
    page.goto(f"{live_server}/admin/users")
    expect(page.locator("h1")).to_contain_text("不允许")
    context.close()


def test_admin_deactivates_a_colleague_holding_work_and_resets_a_password(open_as, live_server, desk, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.service.claim(actors["first_line"], incident_id, desk.task(incident_id, "first_line_handling").id)
    colleague = open_as("first_line")

    admin = open_as("admin")
    admin.goto(f"{live_server}/admin/users")
    admin.get_by_role("link", name="first_line", exact=True).click()
    form = admin.get_by_test_id("edit-form")
    expect(admin.locator("h1")).to_contain_text("first_line user")
    form.locator("#active").uncheck()
    form.get_by_role("button", name="保存").click()
    expect(admin.locator(".flash-success")).to_contain_text("账号 first_line 已更新")
    expect(admin.locator(".flash-info")).to_contain_text("已将其 1 项待办任务退回所在组的任务池")
    assert desk.task(incident_id, "first_line_handling").assignee_id is None  # back in the pool
    colleague.goto(f"{live_server}/inbox")
    expect(colleague).to_have_url(re.compile("/login"))  # signed out everywhere at once

    admin.goto(f"{live_server}/admin/users/{actors['service_desk'].user_id}")
    reset = admin.get_by_test_id("password-form")
    reset.locator('[name="password"]').fill("a-new-password")
    reset.locator('[name="confirm"]').fill("a-new-password")
    reset.get_by_role("button", name="重置密码").click()
    expect(admin.locator(".flash-success")).to_contain_text("service_desk 的密码已重置")

    clerk = open_as("service_desk", "a-new-password")
    clerk.goto(f"{live_server}/account/password")
    clerk.fill("#current", "wrong-password")
    clerk.fill("#new", "my-own-password")
    clerk.fill("#confirm", "my-own-password")
    clerk.get_by_role("button", name="修改密码").click()
    expect(clerk.locator(".has-error")).to_contain_text("当前密码不正确")
    clerk.fill("#current", "a-new-password")
    clerk.fill("#new", "my-own-password")
    clerk.fill("#confirm", "my-own-password")
    clerk.get_by_role("button", name="修改密码").click()
    expect(clerk.locator(".flash-success")).to_contain_text("您的密码已修改")
