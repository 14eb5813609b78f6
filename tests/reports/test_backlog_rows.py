"""Backlog at a moment, breaches and reopens from audit rows (pure)."""

from __future__ import annotations

from datetime import timedelta

from app.reports.backlog import Backlog, CountRow, ReopenRow, summarize_backlog
from app.reports.filters import ReportFilter
from tests.reports.reference import OpenIncident, breach_rows, open_at, reopen_rows
from tests.reports.rows import T, Trail

H = timedelta(hours=1)


def trail() -> Trail:
    t = Trail()
    # 1: registered, first line resolves at +2, reopened at +3, second line test resolves at +5, closed +6
    t.add(1, 0, "started")
    t.add(1, 0, "classified", level="minor")
    t.add(1, 0, "dispatched", stage="initial_support")
    t.add(1, 1, "dispatched", stage="first_line")
    t.add(1, 2, "resolved", stage="first_line")
    t.add(1, 3, "reopened")
    t.add(1, 4, "reclassified", level="yellow")
    t.add(1, 4, "dispatched", stage="second_line", group="test")
    t.add(1, 5, "resolved", stage="second_line")
    t.add(1, 6, "closed")
    # 2: raised in the portal at +1 (status new), registered at +2, transferred at +4
    t.add(2, 1, "started")
    t.add(2, 2, "classified", level=None)
    t.add(2, 2, "dispatched", stage="initial_support")
    t.add(2, 3, "deadline_breach", level=None)
    t.add(2, 4, "transferred")
    return t


def test_open_incidents_at_a_moment():
    rows = trail().rows
    assert open_at(rows, T - H) == []
    assert open_at(rows, T + 1.5 * H) == [OpenIncident(1, "first_line", "minor"), OpenIncident(2, "registration", None)]
    assert open_at(rows, T + 2 * H) == [OpenIncident(2, "initial_support", None)]  # 1 resolved at exactly +2
    assert open_at(rows, T + 3 * H) == [
        OpenIncident(1, "first_line", "minor"),
        OpenIncident(2, "initial_support", None),
    ]
    assert open_at(rows, T + 4 * H) == [OpenIncident(1, "second_line:test", "yellow")]
    assert open_at(rows, T + 6 * H) == []


def test_backlog_summary():
    assert summarize_backlog(T, []) == Backlog(T, 0, (), ())
    counts = [("first_line", "minor", 2), ("initial_support", None, 1), ("first_line", "black", 1)]
    assert summarize_backlog(T, counts) == Backlog(
        T,
        4,
        (CountRow("initial_support", 1), CountRow("first_line", 3)),
        (CountRow("black", 1), CountRow("minor", 2), CountRow("none", 1)),
    )


def test_breaches_in_the_period_by_level_and_group_at_the_breach():
    rows = trail().rows
    every = ReportFilter(T, T + 24 * H)
    assert breach_rows(rows, every) == [CountRow("none", 1)]
    assert breach_rows(rows, ReportFilter(T, T + 3 * H)) == []
    assert breach_rows(rows, ReportFilter(T, T + 24 * H, group="initial_support")) == [CountRow("none", 1)]
    assert breach_rows(rows, ReportFilter(T, T + 24 * H, group="first_line")) == []
    assert breach_rows(rows, ReportFilter(T, T + 24 * H, level="red")) == []


def test_reopens_go_to_the_group_whose_resolution_was_rejected():
    rows = trail().rows
    assert reopen_rows(rows, ReportFilter(T, T + 24 * H)) == [ReopenRow("first_line", 1, 1)]
    assert reopen_rows(rows, ReportFilter(T + 4 * H, T + 24 * H)) == []
    assert reopen_rows(rows, ReportFilter(T, T + 24 * H, group="second_line:test")) == []
