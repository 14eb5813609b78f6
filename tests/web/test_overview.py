"""The leadership overview: figures that equal the data, emergencies with their announcements."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.process import versions
from app.tallies import service as tallies
from app.tallies.service import PeriodicTally
from tests.driver import number, registration
from tests.web.pages import section

ANNOUNCEMENT = "计费系统故障，正在抢修"


def figures(page: str, testid: str) -> dict[str, int]:
    """The stat tiles of one group: data-stat → value."""
    start = page.index(f'data-testid="{testid}"')
    block = page[start : page.index("\n</div>", start)]
    return {name: int(value) for name, value in re.findall(r'data-stat="([^"]+)"><div class="value">(\d+)<', block)}


def portal_incident(service, actors) -> int:
    requester = actors["requester"]
    fields = {"title": "缴费页面报错", "description": "提示系统繁忙", "contact": "张伟", "source": "portal"}
    return service.start(requester, incident=fields, requester_id=requester.user_id)


def test_figures_equal_the_data(desk, service, actors, clock, as_role, db):
    yesterday = desk.register(registration(complaints=50))  # open fault, yellow
    clock.tick(timedelta(hours=26))  # its deadline has passed, and its fault notification is late: orange (E1)
    service.fire_due_timers()
    minor = desk.register(registration(complaints=20))  # open fault, minor
    request = desk.register(registration("request"))  # open request, no level
    emergency = desk.register(registration(core_business_impact="yes"))  # open fault, emergency, no level
    closed = desk.register(registration("consultation", solved=True))  # closed on the spot
    new = portal_incident(service, actors)  # waiting for registration
    desk.complete("incident_manager", emergency, "coordinate_emergency",
                  {"handling": {"outcome": "announce", "announcement": ANNOUNCEMENT}})  # fmt: skip

    tallies.count(db)  # what the timer worker does every TALLY_SECONDS
    for role in ("leadership", "incident_manager"):
        response = as_role(role).get("/overview/")
        assert response.status_code == 200
    page = response.get_data(as_text=True)

    assert figures(page, "headline") == {"open": 4, "emergencies": 1, "breaches": 1, "today": 5}
    assert figures(page, "by-level") == {"black": 0, "red": 0, "orange": 1, "yellow": 0, "minor": 1, "none": 2}
    by_type = figures(page, "by-type")
    assert by_type == {"fault": 3, "complaint": 0, "request": 1, "consultation": 0, "security": 0}
    by_status = figures(page, "by-status")
    assert by_status == {
        "new": 1, "open": 4, "waiting_change": 0, "resolved": 0, "confirmed": 0, "closed": 1, "transferred": 0,
    }  # fmt: skip

    emergencies = section(page, "emergencies")
    assert number(emergency) in emergencies and ANNOUNCEMENT in emergencies
    assert number(minor) not in emergencies
    breaches = section(page, "breaches")
    assert number(yesterday) in breaches and number(minor) not in breaches
    today = section(page, "today")
    assert all(number(i) in today for i in (minor, request, emergency, closed, new))
    assert number(yesterday) not in today  # raised the day before (Asia/Shanghai)


def test_the_shanghai_day_decides_what_is_new_today(desk, clock, as_role):
    clock.move_to("2026-03-02T15:30:00+00:00")  # 23:30 in Shanghai, 2 March
    late_evening = desk.register(registration("request"))
    clock.move_to("2026-03-02T16:30:00+00:00")  # 00:30 in Shanghai, 3 March (still 2 March in UTC)
    after_midnight = desk.register(registration("request"))
    today = section(as_role("leadership").get("/overview/").get_data(as_text=True), "today")
    assert number(after_midnight) in today and number(late_evening) not in today


def test_empty_overview_and_read_only(as_role):
    page = as_role("leadership").get("/overview/").get_data(as_text=True)
    assert figures(page, "headline") == {"open": 0, "emergencies": 0, "breaches": 0, "today": 0}
    assert page.count('class="empty"') == 3
    assert 'method="post"' not in page.split("<main", 1)[1]  # nothing to change here
    for role in ("requester", "first_line", "auditor", "admin"):
        assert as_role(role).get("/overview/").status_code == 403


def test_the_breakdowns_are_those_of_the_last_count_and_say_when_it_was_made(desk, db, clock, as_role, app):
    client = as_role("leadership")
    assert "还没有统计" in section(client.get("/overview/").get_data(as_text=True), "tally")
    desk.register(registration(complaints=20))  # open fault, minor
    clock.move_to("2026-03-02T02:00:00+00:00")  # 10:00 in Shanghai
    PeriodicTally(db, app.config["TALLY_SECONDS"])()  # the timer worker's job: no count yet, so it counts
    desk.register(registration("request"))  # raised after the count: not in it yet
    page = client.get("/overview/").get_data(as_text=True)
    assert "统计于 2026-03-02 10:00" in section(page, "tally")
    assert figures(page, "by-type")["fault"] == 1 and figures(page, "by-type")["request"] == 0
    assert figures(page, "by-status")["open"] == 1
    assert figures(page, "headline")["open"] == 2  # the headline counts now

    clock.tick(timedelta(seconds=app.config["TALLY_SECONDS"] - 1))
    PeriodicTally(db, app.config["TALLY_SECONDS"])()  # not yet: the last count is younger than that
    assert figures(client.get("/overview/").get_data(as_text=True), "by-status")["open"] == 1
    clock.tick(timedelta(seconds=1))
    PeriodicTally(db, app.config["TALLY_SECONDS"])()
    page = client.get("/overview/").get_data(as_text=True)
    assert figures(page, "by-type") == {"fault": 1, "complaint": 0, "request": 1, "consultation": 0, "security": 0}
    assert figures(page, "by-status")["open"] == 2 and "统计于 2026-03-02 10:01" in section(page, "tally")


@pytest.mark.parametrize("times", [1, 2])
def test_a_count_replaces_the_one_before(desk, db, times):
    desk.register(registration(complaints=20))
    for _ in range(times):  # the same moment twice: the tests' clock stands still
        tallies.count(db)
    with db.read() as session:
        tally, running, version = tallies.latest(session), tallies.running(session), versions.latest(session)
    assert tally.by_status == {"open": 1} and tally.open_by_level == {"minor": 1}
    assert running.by_version == {version.id: 1}  # the versions page's count, made with it
