"""The administrator gives a new colleague an account and a role; the colleague signs in and works."""

from __future__ import annotations

from playwright.sync_api import expect


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
