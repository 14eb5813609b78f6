"""The reports page keeps a worker's figures of the incidents while no incident changes
(`app.web.report_figures.KeptFigures`): a change shows on the next page, and what is read of the
accounts (names, headcounts) shows at once, since changing an account changes no incident; kept
repeat groups the timer worker stored still grow old by the clock, and are kept across incidents'
changes until the analysis or the problem tickets change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.reports.filters import SHANGHAI
from app.reports.stored_repeats import compute_requested
from app.users import create_user
from app.web.report_figures import KEPT, KeptFigures
from tests.conftest import FAST_HASH
from tests.driver import registration
from tests.replays import replayed
from tests.reports.scenario import three_faults
from tests.sql import statements, touching
from tests.web.test_reports_pages import as_data, page, raise_form, stats, table

TABLES = ("rate-by-period", "rate-by-type", "rate-by-level", "rate-by-group", "duration-by-group",
          "backlog-by-stage", "backlog-by-level", "breaches-by-level", "reopened-incidents",
          "workload-people", "workload-groups")  # fmt: skip
SECTIONS = ("timeliness", "resolution-time", "change-waits", "backlog")


@pytest.fixture
def manager(desk, service, actors, clock, as_role):
    replayed(desk.db, clock, lambda: three_faults(desk, service, actors, clock))
    return as_role("incident_manager")


def figures(doc) -> dict:
    return {name: table(doc, name) for name in TABLES} | {name: stats(doc, name) for name in SECTIONS}


def test_an_incidents_change_shows_on_the_next_page_as_a_recount_gives_it(manager, desk, app):
    before = figures(page(manager))
    assert before["backlog"] == {"backlog": "1"}
    assert figures(page(manager)) == before  # kept: the same figures

    desk.register(registration(complaints=20))  # a new incident: the backlog grows, nothing else
    after = figures(page(manager))
    assert after["backlog"] == {"backlog": "2"}
    app.extensions.pop(KEPT)  # nothing kept: every figure counted again
    assert figures(page(manager)) == after


def test_a_new_account_counts_in_its_group_at_once(manager, db):
    def first_line_people() -> str:
        return table(page(manager), "workload-groups")["first_line"][1]

    before = first_line_people()
    with db.transaction() as session:  # as `flask users create` does: no audit row, no incident changed
        create_user(session, "newcomer", "password123", ["first_line"], "新同事", hash_method=FAST_HASH)
    assert int(first_line_people()) == int(before) + 1


def test_kept_figures_answer_for_their_version_only_and_drop_the_least_recently_read():
    kept = KeptFigures(size=2)
    kept.put("march", "v1", "figures of march")
    assert kept.get("march", "v1") == "figures of march"
    assert kept.get("march", "v2") is None  # an incident changed since
    kept.put("april", "v1", "figures of april")
    assert kept.get("march", "v1") == "figures of march"  # read last: april is the least recent
    kept.put("may", "v1", "figures of may")
    assert kept.get("april", "v1") is None
    assert kept.get("march", "v1") == "figures of march"
    assert kept.get("may", "v1") == "figures of may"


def test_stored_repeat_groups_kept_still_grow_old_by_the_clock(app, manager, db, clock):
    app.config["REPEATS_INLINE_LIMIT"] = 0  # every period is grouped by the timer worker
    page(manager)
    assert compute_requested(db, SHANGHAI) == 1
    fresh = page(manager).xpath('string(//*[@data-testid="repeats-freshness"])').strip()
    assert fresh == "由后台按 2026-03-03 15:00 的数据分组（该期间事件较多）。"
    clock.tick(timedelta(minutes=11))  # no incident changed: the groups are kept, and now too old
    old = page(manager).xpath('string(//*[@data-testid="repeats-freshness"])').strip()
    assert old == fresh + " 正在重新分组，请稍后刷新本页。"
    assert compute_requested(db, SHANGHAI) == 1  # the page asked for them again


def test_stored_repeat_groups_are_kept_across_incidents_changes_until_a_problem_ticket(app, manager, desk, db):
    def groups(doc) -> list[str]:
        return [" ".join(group.text_content().split()) for group in doc.xpath('//*[@data-testid="repeat-group"]')]

    app.config["REPEATS_INLINE_LIMIT"] = 0  # every period is grouped by the timer worker
    page(manager)
    assert compute_requested(db, SHANGHAI) == 1
    before = groups(page(manager))
    assert len(before) == 1 and "PRB" not in before[0]

    desk.register(registration(complaints=20))  # an incident changes, the stored groups do not
    with statements() as sent:
        doc = page(manager)
    assert touching(sent, "SELECT", "repeat_analysis_rows") == []  # kept, not read again
    assert groups(doc) == before
    app.extensions.pop(KEPT)  # nothing kept: the stored groups read again
    assert groups(page(manager)) == before

    assert manager.post("/reports/problem-tickets", as_data(raise_form(doc))).status_code == 302
    (after,) = groups(page(manager))  # the new ticket shows on the kept groups' next page
    assert "PRB000001" in after
    app.extensions.pop(KEPT)
    assert groups(page(manager)) == [after]
