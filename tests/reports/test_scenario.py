"""Report figures for incidents with known times, driven through the real process (tests/reports/scenario.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.reports import (
    Backlog,
    CountRow,
    DurationRow,
    GroupWorkload,
    PersonWorkload,
    RateRow,
    ReportFilter,
    backlog,
    breaches,
    completed_tasks,
    reopens,
    resolution_time,
    timeliness,
    timeliness_by_period,
    workload_by_group,
    workload_by_person,
)
from tests.conftest import T0
from tests.replays import replayed
from tests.reports.scenario import three_faults

H = timedelta(hours=1)
PERIOD = ReportFilter(T0, T0 + 48 * H)


@pytest.fixture
def scenario(desk, service, actors, clock):
    return replayed(desk.db, clock, lambda: three_faults(desk, service, actors, clock))


@pytest.fixture
def session(db, scenario):
    with db.read() as session:
        yield session


def test_timely_resolution_rate(session):
    assert timeliness(session, PERIOD) == [RateRow("all", 2, 1, 0.5)]
    assert timeliness(session, PERIOD, "type") == [RateRow("fault", 2, 1, 0.5)]
    assert timeliness(session, PERIOD, "level") == [RateRow("minor", 1, 1, 1.0), RateRow("none", 1, 0, 0.0)]
    assert timeliness(session, PERIOD, "group") == [
        RateRow("first_line", 1, 1, 1.0),
        RateRow("second_line:development", 1, 0, 0.0),
    ]


def test_timely_resolution_rate_by_shanghai_day(session):
    # A resolved at 12:00 on 03-02 Shanghai time, B at 15:00 on 03-03; the period ends 09:00 on 03-04
    assert timeliness_by_period(session, PERIOD, "day") == [
        RateRow("2026-03-02", 1, 1, 1.0),
        RateRow("2026-03-03", 1, 0, 0.0),
        RateRow("2026-03-04", 0, 0, None),
    ]
    assert timeliness_by_period(session, PERIOD, "week") == [RateRow("2026-W10", 2, 1, 0.5)]
    assert timeliness_by_period(session, PERIOD, "month") == [RateRow("2026-03", 2, 1, 0.5)]


def test_filters_narrow_the_incidents(session):
    assert timeliness(session, ReportFilter(T0, T0 + 48 * H, group="first_line")) == [RateRow("all", 1, 1, 1.0)]
    assert timeliness(session, ReportFilter(T0, T0 + 48 * H, group="second_line")) == [RateRow("all", 1, 0, 0.0)]
    assert timeliness(session, ReportFilter(T0, T0 + 48 * H, level="none")) == [RateRow("all", 1, 0, 0.0)]
    assert timeliness(session, ReportFilter(T0, T0 + 48 * H, type="request")) == [RateRow("all", 0, 0, None)]
    # the period is half-open on resolved_at: A resolved at exactly T0 + 3 h
    assert timeliness(session, ReportFilter(T0, T0 + 3 * H)) == [RateRow("all", 0, 0, None)]
    assert timeliness(session, ReportFilter(T0 + 3 * H, T0 + 4 * H)) == [RateRow("all", 1, 1, 1.0)]


def test_resolution_time(session):
    assert resolution_time(session, PERIOD) == [DurationRow("all", 2, 16.5, 3.0, 30.0, 30.0)]
    assert resolution_time(session, PERIOD, "level") == [
        DurationRow("minor", 1, 3.0, 3.0, 3.0, 3.0),
        DurationRow("none", 1, 30.0, 30.0, 30.0, 30.0),
    ]
    assert resolution_time(session, PERIOD, "group") == [
        DurationRow("first_line", 1, 3.0, 3.0, 3.0, 3.0),
        DurationRow("second_line:development", 1, 30.0, 30.0, 30.0, 30.0),
    ]
    assert resolution_time(session, ReportFilter(T0, T0 + H)) == [DurationRow("all", 0, None, None, None, None)]


def test_backlog_now_and_at_a_past_moment(session, scenario):
    now = T0 + 30 * H
    expected_now = Backlog(now, 1, (CountRow("initial_support", 1),), (CountRow("minor", 1),))
    assert backlog(session, PERIOD) == expected_now
    assert backlog(session, PERIOD, at=now) == expected_now  # rebuilt from the audit trail: the same
    assert backlog(session, PERIOD, at=T0 + 2 * H) == Backlog(
        T0 + 2 * H,
        3,
        (CountRow("initial_support", 1), CountRow("first_line", 1), CountRow("second_line:development", 1)),
        (CountRow("minor", 2), CountRow("none", 1)),
    )
    # resolution at exactly +3 h counts at +3 h; C is registered at +1 h
    assert backlog(session, PERIOD, at=T0 + 3 * H).total == 2
    # a second before +1 h: A with first line, B still in initial support, C not raised yet
    assert backlog(session, PERIOD, at=T0 + H - timedelta(seconds=1)).by_stage == (
        CountRow("initial_support", 1),
        CountRow("first_line", 1),
    )
    assert backlog(session, PERIOD, at=T0 - H) == Backlog(T0 - H, 0, (), ())
    assert backlog(session, ReportFilter(T0, T0, group="first_line"), at=T0 + 2 * H).total == 1
    assert backlog(session, ReportFilter(T0, T0, level="none"), at=T0 + 2 * H).total == 1
    assert backlog(session, ReportFilter(T0, T0, group="second_line")).total == 0


def test_breaches_by_level_and_group(session):
    assert breaches(session, PERIOD) == [CountRow("none", 1)]  # B, recorded by the sweep at +24.5 h
    assert breaches(session, ReportFilter(T0, T0 + 24 * H)) == []
    assert breaches(session, ReportFilter(T0 + 24.5 * H, T0 + 25 * H)) == [CountRow("none", 1)]
    assert breaches(session, ReportFilter(T0, T0 + 48 * H, group="second_line:development")) == [CountRow("none", 1)]
    assert breaches(session, ReportFilter(T0, T0 + 48 * H, group="first_line")) == []
    assert breaches(session, ReportFilter(T0, T0 + 48 * H, level="minor")) == []
    assert reopens(session, PERIOD) == []


def test_completed_tasks_with_waiting_and_working_time(session, scenario):
    spans = [
        (span.incident_id, span.spec_id, span.actor_name, span.waiting_hours, span.working_hours)
        for span in completed_tasks(session, PERIOD)
    ]
    a, b, c = scenario.a, scenario.b, scenario.c
    assert spans == [
        (a, "register_incident", "service_desk user", 0.0, 0.0),  # registered as it was raised
        (b, "register_incident", "service_desk user", 0.0, 0.0),
        (a, "initial_support", "service_desk user", 0.0, 0.5),  # ready at T0, never claimed, done at +0.5 h
        (b, "initial_support", "service_desk user", 0.0, 1.0),
        (c, "register_incident", "service_desk user", 0.0, 0.0),
        (a, "first_line_handling", "first_line user", 0.5, 2.0),  # ready +0.5, claimed +1, done +3
        (a, "close_incident", "service_desk user", 0.0, 1.0),  # ready at the confirmation (+5), done +6
        (b, "follow_up_breach", "incident_manager user", 0.5, 1.0),  # breach +24.5, claimed +25, done +26
        (b, "second_line_handling", "second_line_dev user", 3.0, 26.0),  # ready +1, claimed +4, done +30
    ]


def test_workload_per_person(session, actors):
    assert workload_by_person(session, PERIOD) == [
        PersonWorkload(actors["service_desk"].user_id, "service_desk user", "service_desk", 6, 0.0, 2.5, 0.0, 0.42, 0),
        PersonWorkload(actors["first_line"].user_id, "first_line user", "first_line", 1, 0.5, 2.0, 0.5, 2.0, 0),
        PersonWorkload(
            actors["incident_manager"].user_id, "incident_manager user", "incident_manager", 1, 0.5, 1.0, 0.5, 1.0, 0
        ),
        PersonWorkload(
            actors["second_line_dev"].user_id, "second_line_dev user", "second_line_dev", 1, 3.0, 26.0, 3.0, 26.0, 0
        ),
    ]
    first_line_only = ReportFilter(T0, T0 + 48 * H, group="first_line")
    assert [row.name for row in workload_by_person(session, first_line_only)] == ["first_line user"]


def test_workload_per_group_with_open_tasks_now(session):
    # open now: C's initial support (desk queue), C's warning follow-up (B's was withdrawn when B was
    # resolved); B's confirmation waits with its requester, which is not the team's workload
    assert workload_by_group(session, PERIOD) == [
        GroupWorkload("service_desk", 1, 1, 6, 0.0, 2.5, 0.0, 0.42, 0, 1),
        GroupWorkload("first_line", 1, 1, 1, 0.5, 2.0, 0.5, 2.0, 0, 0),
        GroupWorkload("second_line_dev", 1, 1, 1, 3.0, 26.0, 3.0, 26.0, 0, 0),
        GroupWorkload("incident_manager", 1, 1, 1, 0.5, 1.0, 0.5, 1.0, 0, 1),
    ]
    morning = ReportFilter(T0, T0 + 4 * H, group="initial_support")
    assert workload_by_group(session, morning) == [GroupWorkload("service_desk", 1, 1, 5, 0.0, 1.5, 0.0, 0.3, 0, 1)]
