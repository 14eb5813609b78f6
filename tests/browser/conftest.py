"""Browser tests: the real app served on a free port, driven by Playwright in Debian's Chromium.

Skipped when /usr/bin/chromium is absent, unless REQUIRE_TOOLS=1 (CI), where that fails the run.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timedelta

import pytest

from app.incidents.service import IncidentService
from app.reports.filters import SHANGHAI
from tests.driver import Desk

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


MIDNIGHT_MARGIN = timedelta(minutes=2)  # far longer than any browser test takes


@pytest.fixture(autouse=True)
def one_local_day():
    """Each browser test runs within one day of the configured zone: the pages' "today" and "this
    month" are read on the real clock, and an incident raised at 23:59:59 is not today's at 00:00:00
    (a CI run crossed Beijing midnight so). Close to midnight, wait for it to pass."""
    now = datetime.now(SHANGHAI)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight - now < MIDNIGHT_MARGIN:
        time.sleep((midnight - now).total_seconds() + 1)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("REQUIRE_TOOLS") == "1":
            pytest.fail(f"{CHROMIUM} is required for the browser tests (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def desk(db, actors, live_server) -> Desk:
    """The roles' earlier steps, through the service on the real clock (the browser keeps real time)."""
    return Desk(IncidentService(db), db, actors)


DESKTOP = (1280, 800)
PHONE = (390, 844)


@pytest.fixture
def open_as(browser, live_server):
    """open_as("service_desk") → a signed-in page of its own browser context (its own cookies);
    `viewport=PHONE` for a phone's screen (touch, a phone's pixel ratio).

    Whatever the test does, nothing on its pages may be blocked by the content-security policy."""
    contexts, blocked = [], []

    def sign_in(role: str, password: str = "password123", *, viewport: tuple[int, int] = (1366, 900)):
        phone = viewport == PHONE
        context = browser.new_context(
            locale="zh-CN",
            viewport={"width": viewport[0], "height": viewport[1]},
            has_touch=phone,
            is_mobile=phone,
            device_scale_factor=3 if phone else 1,
        )
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
        page.set_default_timeout(15_000)
        page.goto(f"{live_server}/login")
        page.fill("#username", role)
        page.fill("#password", password)
        page.click("button.primary")
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield sign_in
    for context in contexts:
        context.close()
    assert not blocked, blocked
