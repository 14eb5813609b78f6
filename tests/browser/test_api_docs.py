"""The API's browsable page and the token page, in a real browser: Swagger UI (vendored) draws every
operation of the document without breaking the content-security policy, and a token made on the page
is shown once."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_api_page_lists_the_operations_from_the_document(open_as, live_server):
    page = open_as("first_line")
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("事件管理 API")
    expect(page.locator(".opblock-summary-path[data-path='/api/v1/incidents']").first).to_be_visible()
    expect(
        page.locator(".opblock-summary-path[data-path='/api/v1/tasks/{incident_id}/{task_id}/complete']")
    ).to_be_visible()


def test_a_token_made_on_the_page_is_shown_once(open_as, live_server):
    page = open_as("first_line")
    page.goto(f"{live_server}/account/tokens/")
    page.fill("#name", "巡检脚本")
    page.check("input[value='tasks:complete']")
    page.click("button.primary")
    secret = page.get_by_test_id("token-secret").inner_text()
    assert secret.startswith("bss_")
    page.goto(f"{live_server}/account/tokens/")
    expect(page.get_by_test_id("tokens")).to_contain_text("巡检脚本")
    expect(page.get_by_test_id("tokens")).not_to_contain_text(secret)
    expect(page.get_by_test_id("new-token")).to_have_count(0)
