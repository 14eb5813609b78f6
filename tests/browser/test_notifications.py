"""The bell counts a notification that arrives while the page is open, without a reload; the centre
lists it and opening it leads to the task."""

from __future__ import annotations

from playwright.sync_api import expect

from app.incidents.service import IncidentService
from tests.driver import Desk, pass_on, registration


def test_the_bell_updates_by_itself_and_leads_to_the_task(app, db, actors, open_as, live_server):
    app.config["NOTIFY_POLL_SECONDS"] = 0.5
    page = open_as("first_line")
    count = page.locator("[data-bell] [data-unread]")
    expect(count).to_be_hidden()

    desk = Desk(IncidentService(db), db, actors)  # meanwhile, the service desk passes an incident on
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))

    expect(count).to_have_text("1", timeout=10_000)  # no reload
    page.locator("[data-bell]").click()
    item = page.get_by_test_id("notification").first
    expect(item).to_contain_text("一线尝试解决")
    expect(item).to_contain_text("未读")
    item.locator("button.subject").click()
    expect(page).to_have_url(f"{live_server}/tasks/{incident_id}/{desk.task(incident_id, 'first_line_handling').id}")
    expect(page.locator("[data-bell] [data-unread]")).to_be_hidden()
