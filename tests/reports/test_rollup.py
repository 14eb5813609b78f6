"""The roll-ups and the SQL aggregation give the figures the old Python path gave (tests/reports/
reference.py) on the same data, driven through the real process: breaches, warnings, claims, a
reopen with a hand-over to second line, an assignment by the incident manager, a wait for a change,
closures; and a rebuild from the audit log (what migration 0018 does) writes the same roll-up rows
as the actions kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app.reports import (
    ReportFilter,
    backlog,
    breaches,
    completed_tasks,
    reopens,
    resolution_time,
    timeliness_by_period,
    workload_by_group,
    workload_by_person,
)
from app.reports.backlog import FIRST_BREACHES
from app.reports.changes import WAITS, change_waits
from app.reports.closures import CLOSURES
from app.reports.counted import _READ, counted_of, midnight
from app.reports.counters import local_day
from app.reports.filters import SHANGHAI
from app.reports.models import ReportChainMemory, ReportEvent, ReportTaskSpan
from app.reports.page import read_counters
from app.reports.resolution_time import DURATIONS
from app.reports.response_time import RESPONSES, response_times
from app.reports.rollup import rebuild
from app.reports.timeliness import RATES, per_period
from app.reports.workload import TASKS, group_rows, person_rows
from tests.conftest import T0
from tests.driver import pass_on, registration, resolved
from tests.reports import reference
from tests.reports.scenario import three_faults, tick_to

H = timedelta(hours=1)
DAY = timedelta(days=1)
CHANGE = {"handling": {"outcome": "change", "change_kind": "requirement", "change_reference": "REQ-77"}}
FILTERS = [
    ReportFilter(T0, T0 + 72 * H),
    ReportFilter(T0 - 45 * 24 * H, T0 + 45 * 24 * H),  # February and March from the month counters
    ReportFilter(T0 - 45 * 24 * H, T0 + 45 * 24 * H, level="none"),
    ReportFilter(T0 + 3 * H, T0 + 30 * H),
    ReportFilter(T0, T0 + 72 * H, type="fault"),
    ReportFilter(T0, T0 + 72 * H, level="none"),
    ReportFilter(T0, T0 + 72 * H, level="minor"),
    ReportFilter(T0, T0 + 72 * H, group="first_line"),
    ReportFilter(T0, T0 + 72 * H, group="second_line"),
    ReportFilter(T0, T0 + 72 * H, group="second_line:test"),
    ReportFilter(T0, T0 + 72 * H, group="initial_support"),
    ReportFilter(T0, T0 + 72 * H, group="incident_manager"),
]


@pytest.fixture
def busy(desk, service, actors, clock):
    """The three faults of tests/reports/scenario.py, then a reopen handed over to second line, an
    assigned task, and a wait for a change."""
    _busy(desk, service, actors, clock, lambda: None)


def _busy(desk, service, actors, clock, midway):
    three_faults(desk, service, actors, clock)
    midway()
    tick_to(clock, 31)
    reopened = desk.register(registration("request"))
    desk.complete("service_desk", reopened, "initial_support", pass_on("first_line"))
    tick_to(clock, 32)
    desk.complete("first_line", reopened, "first_line_handling", resolved())
    tick_to(clock, 33)
    desk.complete("requester", reopened, "confirm_resolution", {"confirmation": {"resolved": False, "comment": "没好"}})
    tick_to(clock, 34)
    desk.complete("first_line", reopened, "first_line_handling", pass_on("second_line", "test"))
    tick_to(clock, 35)
    midway()
    task = desk.task(reopened, "second_line_handling")
    service.assign(actors["incident_manager"], reopened, task.id, actors["second_line_test"].user_id)
    tick_to(clock, 40)
    desk.complete("second_line_test", reopened, "second_line_handling", resolved())
    waited = desk.register(registration(complaints=20))
    desk.complete("service_desk", waited, "initial_support", pass_on("second_line", "information_systems"))
    tick_to(clock, 41)
    desk.complete("second_line_is", waited, "second_line_handling", CHANGE)
    tick_to(clock, 50)
    service.report_change_done(actors["second_line_is"], waited, "REQ-77 已上线")
    tick_to(clock, 52)
    desk.complete("second_line_is", waited, "second_line_handling", resolved())


def test_the_page_reads_the_counters_at_once_as_each_figure_reads_them(db, busy):
    """`read_counters` (one statement) leaves for each figure exactly what it would read itself, for the
    filters' periods widened to whole local days (as the page asks; a ragged period each figure reads)."""
    for ragged in FILTERS:
        flt = replace(ragged, start=midnight(local_day(ragged.start)), end=midnight(local_day(ragged.end) + DAY))
        for bucket in ("day", "week", "month"):
            requests = [RATES, DURATIONS, *RESPONSES, WAITS, CLOSURES, TASKS, FIRST_BREACHES, per_period(bucket)]
            with db.read() as session:
                alone = [counted_of(session, flt, request) for request in requests]
            with db.read() as session:
                read_counters(session, flt, bucket, SHANGHAI)
                assert session.info[_READ]  # read ahead
                assert [counted_of(session, flt, request) for request in requests] == alone, (flt, bucket)
                assert not session.info[_READ]  # each taken once
    assert any(alone)


def test_sql_figures_equal_the_python_path(db, busy):
    target = timedelta(minutes=15)
    with db.read() as session:
        for flt in FILTERS:
            assert breaches(session, flt) == reference.breaches(session, flt), flt
            assert reopens(session, flt) == reference.reopens(session, flt), flt
            assert change_waits(session, flt).returned == reference.change_waits(session, flt), flt
            assert response_times(session, flt, target) == reference.response_times(session, flt, target), flt
            for by in ("all", "type", "level", "group"):
                assert resolution_time(session, flt, by) == reference.resolution_time(session, flt, by), (flt, by)
            for bucket in ("day", "week", "month"):
                expected = reference.timeliness_by_period(session, flt, bucket)
                assert timeliness_by_period(session, flt, bucket) == expected, (flt, bucket)
            spans = reference.completed_tasks(session, flt)
            assert _spans(completed_tasks(session, flt)) == _spans(spans), flt
            # open tasks and headcounts are read as before (no roll-up): compare the completed part
            expected_people = person_rows(reference.person_totals(spans))
            assert [_completed(r) for r in workload_by_person(session, flt) if r.completed] == [
                _completed(r) for r in expected_people
            ], flt
            expected_groups = group_rows(reference.group_totals(spans))
            assert [_completed(r) for r in workload_by_group(session, flt) if r.completed] == [
                _completed(r) for r in expected_groups
            ], flt
            for hours in (0.5, 1, 3, 12, 31, 34, 40.5, 45, 51, 60):  # the backlog at moments, by the database
                moment = T0 + hours * H
                assert backlog(session, flt, at=moment) == reference.backlog_at(session, flt, moment), (flt, hours)
        assert reopens(session, FILTERS[0]) != []  # the data exercise every figure
        assert breaches(session, FILTERS[0]) != []
        assert change_waits(session, FILTERS[0]).returned.count == 1


def _spans(spans):
    return [
        (s.incident_id, s.spec_id, s.actor_name, round(s.waiting_hours, 6), round(s.working_hours, 6)) for s in spans
    ]


def _completed(row):
    """A workload row without what is read now rather than rolled up (open tasks, headcount)."""
    return replace(row, open_assigned=0, **({"people": 0, "open_unassigned": 0} if hasattr(row, "people") else {}))


def _rollup(session):
    spans = [
        (s.audit_id, s.incident_id, s.spec_id, s.actor_id, s.roles, s.ready_at, s.taken_at, s.completed_at,
         round(s.waiting_seconds, 3), round(s.working_seconds, 3))
        for s in session.scalars(select(ReportTaskSpan).order_by(ReportTaskSpan.audit_id))
    ]  # fmt: skip
    events = [
        (e.audit_id, e.incident_id, e.kind, e.at, e.level, e.support_group, e.seconds)
        for e in session.scalars(select(ReportEvent).order_by(ReportEvent.audit_id))
    ]
    return spans, events


def test_the_rebuild_writes_what_the_actions_kept(db, busy):
    with db.read() as session:
        kept = _rollup(session)
    assert len(kept[0]) > 15
    assert {event[2] for event in kept[1]} == {"deadline_breach", "reopened", "change_returned", "first_step"}
    with db.transaction() as session:
        rebuild(session)
    with db.read() as session:
        assert _rollup(session) == kept


def test_incidents_whose_chain_memory_is_lost_get_the_same_roll_ups(db, desk, service, actors, clock):
    """Incidents from before the memory (migration 0027), or whose rows were written past the roll-ups:
    the next action reads what the memory lacks from the chain and keeps what a rebuild writes."""

    def forget():
        with db.transaction() as session:
            session.execute(delete(ReportChainMemory))

    _busy(desk, service, actors, clock, forget)
    with db.read() as session:
        kept = _rollup(session)
        assert session.scalar(select(func.count()).select_from(ReportChainMemory)) > 0
    with db.transaction() as session:
        rebuild(session)
    with db.read() as session:
        assert _rollup(session) == kept
