"""The repeat groups of a period with many incidents: grouped by the timer worker's job, not in the
page request, and the page says as of when (app/reports/stored_repeats.py).

Here every period counts as big (REPEATS_INLINE_LIMIT 0); the scenario's three similar incidents of
2026-03-02 form one group, as they do when the page groups them itself (tests/web/test_reports_pages.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import ProblemTicket
from app.reports.filters import SHANGHAI
from app.reports.stored_repeats import compute_requested
from tests.driver import registration
from tests.reports.scenario import three_faults, tick_to
from tests.web.test_reports_pages import TITLE, as_data, csv_link, download, page, raise_form

WAITING = "该期间事件较多，后台正在为其分组，请稍后刷新本页。"


@pytest.fixture
def scenario(desk, service, actors, clock):
    return three_faults(desk, service, actors, clock)


@pytest.fixture
def manager(scenario, as_role):
    return as_role("incident_manager")


def repeats_csv(client) -> list[list[str]]:
    return download(client, csv_link(page(client), "repeats"))


def test_a_big_period_shows_the_groups_the_worker_stored_and_says_as_of_when(app, manager, scenario, db, desk, clock):
    grouped_at_once = repeats_csv(manager)
    app.config["REPEATS_INLINE_LIMIT"] = 0

    doc = page(manager)  # nothing stored yet: the page asks the worker and says so
    assert doc.xpath('//*[@data-testid="repeat-group"]') == []
    assert doc.xpath('string(//*[@data-testid="repeats-freshness"])').strip() == WAITING
    assert "本期间没有重复事件" not in doc.xpath('string(//*[@data-testid="repeats"])')
    assert compute_requested(db, SHANGHAI) == 1
    assert compute_requested(db, SHANGHAI) == 0  # done: nothing asked for any more

    doc = page(manager)
    (group,) = doc.xpath('//*[@data-testid="repeat-group"]')
    assert TITLE in group.text_content()
    links = [link.get("href") for link in group.xpath(".//tbody//a")]
    assert links == [f"/incidents/{scenario.a}", f"/incidents/{scenario.b}", f"/incidents/{scenario.c}"]
    note = doc.xpath('string(//*[@data-testid="repeats-freshness"])').strip()
    assert note == "由后台按 2026-03-03 15:00 的数据分组（该期间事件较多）。"
    assert repeats_csv(manager) == grouped_at_once  # the same rule, the same rows

    # a fourth similar incident, and eleven minutes: the page shows the stored groups and asks again
    tick_to(clock, 30 + 1 / 60)
    desk.register(registration(complaints=20))
    tick_to(clock, 30 + 11 / 60)
    doc = page(manager)
    (group,) = doc.xpath('//*[@data-testid="repeat-group"]')
    assert len(group.xpath(".//tbody/tr[@data-key]")) == 3
    note = doc.xpath('string(//*[@data-testid="repeats-freshness"])').strip()
    assert note == "由后台按 2026-03-03 15:00 的数据分组（该期间事件较多）。 正在重新分组，请稍后刷新本页。"
    assert compute_requested(db, SHANGHAI) == 1
    doc = page(manager)
    (group,) = doc.xpath('//*[@data-testid="repeat-group"]')
    assert len(group.xpath(".//tbody/tr[@data-key]")) == 4
    note = doc.xpath('string(//*[@data-testid="repeats-freshness"])').strip()
    assert note == "由后台按 2026-03-03 15:11 的数据分组（该期间事件较多）。"


def test_stored_analyses_no_page_asked_for_in_a_day_are_forgotten(app, manager, db, clock, as_role):
    app.config["REPEATS_INLINE_LIMIT"] = 0
    page(manager)
    assert compute_requested(db, SHANGHAI) == 1
    clock.tick(timedelta(days=1, minutes=1))
    assert compute_requested(db, SHANGHAI) == 0
    doc = page(as_role("incident_manager"))  # signed in again (a day later): asked for from the start
    assert doc.xpath('string(//*[@data-testid="repeats-freshness"])').strip() == WAITING


def test_the_csv_of_a_big_period_is_the_stored_rows_and_asks_for_them(app, manager, db):
    link = csv_link(page(manager), "repeats")  # asks for March
    grouped_at_once = download(manager, link)
    app.config["REPEATS_INLINE_LIMIT"] = 0
    other = link.replace("from=2026-03-01", "from=2026-03-02")
    assert other != link
    assert len(download(manager, other)) == 1  # nothing stored for this period yet: the header
    assert compute_requested(db, SHANGHAI) == 1  # the download asked for it
    assert download(manager, other) == grouped_at_once  # the same three incidents, stored


def test_a_stored_group_offers_a_problem_ticket_and_shows_it_at_once(app, manager, scenario, db, clock):
    app.config["REPEATS_INLINE_LIMIT"] = 0
    page(manager)
    compute_requested(db, SHANGHAI)
    fields = raise_form(page(manager))
    everyone = [str(scenario.a), str(scenario.b), str(scenario.c)]
    assert [value for name, value in fields if name == "incident"] == [",".join(everyone)]  # one field
    response = manager.post("/reports/problem-tickets", as_data(fields))
    assert response.status_code == 302

    doc = page(manager, response.location)  # the stored grouping is older than the ticket: read now
    (group,) = doc.xpath('//*[@data-testid="repeat-group"]')
    assert "PRB000001" in group.xpath('string(.//*[@data-testid="problem-tickets"])')
    assert group.xpath('.//form[@data-testid="raise-problem-ticket"]') == []
    compute_requested(db, SHANGHAI)  # nothing asked for: the grouping is ten minutes old at most
    (group,) = page(manager).xpath('//*[@data-testid="repeat-group"]')
    assert "PRB000001" in group.xpath('string(.//*[@data-testid="problem-tickets"])')

    clock.tick(timedelta(minutes=11))
    page(manager)  # old: asked for again
    assert compute_requested(db, SHANGHAI) == 1
    (group,) = page(manager).xpath('//*[@data-testid="repeat-group"]')  # the ticket kept with the group
    assert "PRB000001" in group.xpath('string(.//*[@data-testid="problem-tickets"])')
    assert group.xpath('.//*[@data-testid="more-tickets"]') == []


def test_a_long_stored_group_shows_its_head_and_its_size_and_offers_every_incident(app, manager, desk):
    for _ in range(11):  # with the scenario's three: 14 repeats of one title in one group
        desk.register(registration(complaints=20))
    app.config["REPEATS_INLINE_LIMIT"] = 0
    page(manager)
    compute_requested(db=app.extensions["db"], tz=SHANGHAI)
    (group,) = page(manager).xpath('//*[@data-testid="repeat-group"]')
    assert len(group.xpath(".//tbody/tr[@data-key]")) == 10
    assert group.xpath('string(.//*[@data-testid="repeat-more"])') == "本组另有 4 起事件，见 CSV。"
    assert "14" in group.xpath("string(.//h3)") and "2026-03-03 15:00" in group.xpath("string(.//h3)")
    (ids,) = group.xpath('.//input[@name="incident"]/@value')  # one field, the ids comma-joined
    assert len(ids.split(",")) == 14  # the ticket still covers the whole group


def tickets_of(doc) -> tuple[list[str], str]:
    (group,) = doc.xpath('//*[@data-testid="repeat-group"]')
    badges = group.xpath('.//*[@data-testid="problem-tickets"]/span[@class="badge status-resolved"]')
    more = group.xpath('string(.//*[@data-testid="more-tickets"])')
    return [badge.text_content().split()[-1] for badge in badges], more


def test_a_group_names_its_first_five_tickets_stored_or_not(app, manager, scenario, db):
    with db.transaction() as session:  # seven tickets of the group's incidents (e.g. raised from the incidents)
        session.add_all(ProblemTicket(incident_id=incident, title=f"根因 {n}", created_by="incident_manager user")
                        for n, incident in enumerate([scenario.a] * 4 + [scenario.c] * 3))  # fmt: skip
    at_once = tickets_of(page(manager))
    assert at_once == (["PRB000001", "PRB000002", "PRB000003", "PRB000004", "PRB000005"], "本组另有 2 个问题单")
    app.config["REPEATS_INLINE_LIMIT"] = 0
    page(manager)
    compute_requested(db, SHANGHAI)
    assert tickets_of(page(manager)) == at_once
    with db.transaction() as session:  # one more, after the grouping
        session.add(ProblemTicket(incident_id=scenario.b, title="根因 8", created_by="incident_manager user"))
    assert tickets_of(page(manager)) == (at_once[0], "本组另有 3 个问题单")
