"""A long inbox in the browser: 50 tasks a page, the filter kept from page to page (app/web/paging.py)."""

from __future__ import annotations

from playwright.sync_api import expect

from app.incidents.service import IncidentService
from tests.browser.steps import inbox_row
from tests.driver import Desk, registration


def test_the_service_desk_pages_through_a_long_filtered_inbox(db, actors, live_server, open_as):
    desk = Desk(IncidentService(db), db, actors)
    requests = [desk.register(registration("request", customer_demand=True)) for _ in range(53)]
    fault = desk.register(registration("fault"))

    page = open_as("service_desk")
    page.goto(f"{live_server}/inbox")
    page.select_option("select[name=type]", "request")
    page.get_by_role("button", name="筛选").click()
    rows = page.get_by_test_id("inbox").locator("tbody tr")
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("rows-shown")).to_have_text("第 1–50 条，共 53 条")
    expect(inbox_row(page, fault)).to_have_count(0)  # filtered out

    page.get_by_test_id("pagination").get_by_role("link", name="下一页").click()
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("rows-shown")).to_have_text("第 51–53 条，共 53 条")
    expect(page.locator("select[name=type]")).to_have_value("request")  # the filter is kept
    expect(page.get_by_test_id("pagination")).to_contain_text("第 2 页，共 2 页")
    shown = {int(link.split("/")[-1]) for link in rows.locator('a[href*="/incidents/"]').evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")}  # fmt: skip
    assert shown < set(requests)

    page.get_by_test_id("pagination").get_by_role("link", name="上一页").click()
    expect(rows).to_have_count(50)
