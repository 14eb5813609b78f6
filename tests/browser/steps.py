"""Steps the browser tests share: registering, opening and completing tasks the way the roles do.

Selectors are the stable ones: field names (dotted JSON paths), choice values, data-testid, URLs.
Visible texts are used only for process content (task names), which is what the users work by.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

TASK_FORM = "form[data-task-form]"
INCIDENT_URL = re.compile(r"/incidents/(\d+)$")


def choose(page: Page, name: str, value: str) -> None:
    page.locator(f'[name="{name}"][value="{value}"]').check()


def field(page: Page, name: str):
    """The wrapper of a form field (label, control, error, help), the element shown or hidden."""
    return page.locator(f'[data-field="{name}"]')


def submit_task(page: Page) -> None:
    """Complete the task form and wait for the incident page with its success message."""
    page.locator(f"{TASK_FORM} button.primary").click()
    page.wait_for_url(INCIDENT_URL)
    expect(page.locator(".flash-success")).to_be_visible()


def incident_id_of(page: Page) -> int:
    page.wait_for_url(INCIDENT_URL)
    return int(INCIDENT_URL.search(page.url).group(1))


def register(
    page: Page,
    base: str,
    title: str,
    *,
    requester_id: int | None = None,
    emergency: bool = False,
    complaints: int = 3,
) -> int:
    """The service desk registers a fault (application); returns the incident id."""
    page.goto(f"{base}/incidents/new")
    if requester_id is not None:
        page.select_option("#requester_id", str(requester_id))
    page.fill('[name="incident.title"]', title)
    page.fill('[name="incident.description"]', f"{title}：用户反馈")
    page.select_option('[name="incident.source"]', "hotline")
    page.select_option('[name="facts.type"]', "fault")
    page.select_option('[name="facts.fault_category"]', "application")
    page.fill('[name="facts.complaints"]', str(complaints))
    choose(page, "facts.core_business_impact", "yes" if emergency else "no")  # asked for every fault
    page.locator(f"{TASK_FORM} button.primary").click()
    incident_id = incident_id_of(page)
    expect(page.locator("h1")).to_contain_text(title)
    return incident_id


def inbox_row(page: Page, incident_id: int):
    """The inbox rows of one incident (open the inbox first)."""
    return (
        page.get_by_test_id("inbox")
        .locator("tbody tr")
        .filter(has=page.locator(f'a[href$="/incidents/{incident_id}"]'))
    )


def open_from_inbox(page: Page, base: str, incident_id: int, task_name: str) -> None:
    page.goto(f"{base}/inbox")
    inbox_row(page, incident_id).get_by_role("link", name=task_name, exact=True).click()
    expect(page.locator(TASK_FORM)).to_be_visible()


def open_from_incident(page: Page, base: str, incident_id: int, task_name: str) -> None:
    page.goto(f"{base}/incidents/{incident_id}")
    # a handler's open-tasks table, or what the requester is asked to do
    tasks = page.locator('[data-testid="open-tasks"], [data-testid="asked"]')
    tasks.get_by_role("link", name=task_name, exact=True).first.click()
    expect(page.locator(TASK_FORM)).to_be_visible()


def resolve(page: Page, solution: str, kind: str = "resolved") -> None:
    """On an open handling task form: outcome resolved with a solution, then complete it."""
    choose(page, "handling.outcome", "resolved")
    choose(page, "handling.solution_kind", kind)
    page.fill('[name="handling.solution"]', solution)
    submit_task(page)


def pass_on(page: Page, stage: str, group: str | None = None) -> None:
    choose(page, "handling.outcome", "pass_on")
    choose(page, "handling.next_stage", stage)
    if group:
        choose(page, "handling.group", group)
    submit_task(page)


def confirm(page: Page, resolved: bool, comment: str = "") -> None:
    choose(page, "confirmation.resolved", "true" if resolved else "false")
    if comment:
        page.fill('[name="confirmation.comment"]', comment)
    submit_task(page)


def close(page: Page, code: str = "resolved") -> None:
    choose(page, "closure.code", code)
    choose(page, "closure.follow_up", "none")
    submit_task(page)


def open_task_names(page: Page):
    """The task names in the incident page's open-tasks table (open the incident page first)."""
    return page.get_by_test_id("open-tasks").locator("tbody tr td:first-child")
