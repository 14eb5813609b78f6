"""Leadership reads this month's figures on the reports page (管理信息): how many incidents were
resolved and how many in time, resolution times, closures, who did the work, and the line saying how
fresh the figures are (数据截至…, kept with every action); after one more resolution the page says so
at once, and the rate's CSV download has the same numbers. The incident manager reads the repeat groups
of a big period, which the timer worker computes, with the time they are of."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.models import utcnow
from app.reports.filters import SHANGHAI
from app.reports.stored_repeats import compute_requested
from tests.driver import Desk, pass_on, registration, resolved


def stat(page: Page, section: str, name: str):
    return page.get_by_test_id(section).locator(f'[data-stat="{name}"] .value')


def test_leadership_reads_this_months_figures_and_how_fresh_they_are(open_as, live_server, desk: Desk):
    desk.register(registration(solved=True))  # solved at registration: 0 h, in time
    handled = desk.register(registration(complaints=20))
    desk.complete("service_desk", handled, "initial_support", pass_on("first_line"))
    desk.complete("first_line", handled, "first_line_handling", resolved())
    desk.complete("requester", handled, "confirm_resolution", {"confirmation": {"resolved": True}})
    desk.complete("service_desk", handled, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    still_open = desk.register(registration("request"))

    page = open_as("leadership")
    page.goto(f"{live_server}/reports/")
    today = utcnow().astimezone(SHANGHAI).date()  # the configured zone
    expect(page.get_by_test_id("period")).to_contain_text(today.replace(day=1).isoformat())
    freshness = page.get_by_test_id("freshness")
    expect(freshness).to_contain_text("数据截至")
    expect(freshness).to_contain_text(today.isoformat())
    expect(freshness).to_contain_text("随每次操作实时更新")

    expect(stat(page, "timeliness", "resolved")).to_have_text("2")
    expect(stat(page, "timeliness", "timely")).to_have_text("2")
    expect(stat(page, "timeliness", "late")).to_have_text("0")
    expect(stat(page, "timeliness", "rate")).to_have_text("100%")
    expect(page.get_by_test_id("rate-by-period").locator(f'tr[data-key="{today.isoformat()}"]')).to_contain_text("100%")
    expect(stat(page, "resolution-time", "count")).to_have_text("2")
    expect(stat(page, "resolution-time", "median")).to_have_text("0.00")  # the one solved on the spot
    closed = page.get_by_test_id("closures-by-code").locator('tr[data-key="resolved"] td')
    expect(closed).to_have_text(["已解决", "2"])  # both: the one solved on the spot closes at once
    people = page.get_by_test_id("workload-people")
    completed = 2  # the person's name, roles, then the tasks they completed
    expect(people.locator("tr", has_text="first_line user").locator("td").nth(completed)).to_have_text("1")
    desk_row = people.locator("tr", has_text="service_desk user")
    expect(desk_row.locator("td").nth(completed)).to_have_text("5")  # three registrations, a hand-over, a closure
    expect(page.get_by_test_id("backlog")).to_be_visible()

    desk.complete("service_desk", still_open, "initial_support", resolved())  # one more, just now
    page.reload()
    expect(stat(page, "timeliness", "resolved")).to_have_text("3")
    expect(stat(page, "resolution-time", "count")).to_have_text("3")

    with page.expect_download() as download:
        page.get_by_test_id("csv-timeliness").click()
    body = open(download.value.path(), encoding="utf-8-sig").read()
    assert re.search(r"^.+,3,3,100%\r?$", body, re.M), body


def test_a_big_periods_repeat_groups_come_from_the_worker_with_their_time(open_as, live_server, app, db, desk: Desk):
    """A period with more incidents than REPEATS_INLINE_LIMIT (here every period): the manager first
    reads that the worker is grouping them, then, after its sweep, the groups and as of when."""
    app.config["REPEATS_INLINE_LIMIT"] = 0
    first, second = (desk.register(registration(complaints=20)) for _ in range(2))  # the same title

    page = open_as("incident_manager")
    page.goto(f"{live_server}/reports/")
    section = page.get_by_test_id("repeats")
    expect(section.get_by_test_id("repeats-freshness")).to_have_text(
        "该期间事件较多，后台正在为其分组，请稍后刷新本页。"
    )
    expect(section.get_by_test_id("repeat-group")).to_have_count(0)

    compute_requested(db, SHANGHAI)  # what the timer worker does after a sweep
    page.reload()
    freshness = section.get_by_test_id("repeats-freshness")
    expect(freshness).to_contain_text("由后台按")
    expect(freshness).to_contain_text(utcnow().astimezone(SHANGHAI).date().isoformat())
    group = section.get_by_test_id("repeat-group")
    expect(group.locator("tbody tr")).to_have_count(2)
    expect(group.locator("tbody tr").first).to_contain_text(f"INC{first:06d}")
    expect(group.locator("tbody tr").last).to_contain_text(f"INC{second:06d}")
    raise_ticket = group.get_by_test_id("raise-problem-ticket")
    expect(raise_ticket).to_contain_text(f"INC{second:06d}")  # the ticket goes to the latest of the group
    raise_ticket.get_by_role("button", name="生成问题单").click()
    flashed = page.locator(".flash-success")
    expect(flashed).to_contain_text("已为 2 个重复事件生成问题单 PRB")
    ticket = re.search(r"PRB\d{6}", flashed.inner_text()).group(0)
    # back on the report, the group shows its ticket and offers no second one
    tickets = page.get_by_test_id("repeats").get_by_test_id("problem-tickets")
    expect(tickets).to_contain_text(ticket)
    expect(page.get_by_test_id("repeats").get_by_test_id("raise-problem-ticket")).to_have_count(0)
