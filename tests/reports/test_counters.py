"""The per-day counters (app/reports/counters.py): what the actions keep equals a rebuild from the
incidents and roll-ups (what migration 0022 writes), each month's counters are its days' added up,
and the figures read from them equal the old Python path (tests/reports/reference.py) — for the
scripted scenario and for random histories driven through the real process across local midnights
and the end of a month: resolutions in and out of time, hand-overs to second line, reopens, closures,
breaches, and incidents that become part of a major incident."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from alembic import command
from sqlalchemy import select

from app.links import service as links
from app.links.models import PART_OF
from app.migrate import alembic_config
from app.reports import ReportFilter, breaches, timeliness_by_all, timeliness_by_period
from app.reports.changes import change_waits
from app.reports.closures import closures
from app.reports.counted import midnight
from app.reports.counters import rebuild
from app.reports.models import ReportDayCount, ReportIncidentCounts, ReportMonthCount
from app.reports.resolution_time import resolution_time
from app.reports.response_time import response_times
from app.reports.workload import group_rows, workload_by_group
from tests.conftest import T0
from tests.driver import pass_on, registration, resolved
from tests.reports import reference
from tests.reports.test_rollup import busy  # noqa: F401 — the scripted scenario

H = timedelta(hours=1)
TARGET = timedelta(minutes=15)


def _rows(session, model, when):
    rows = session.scalars(select(model))
    return {
        (r.metric, getattr(r, when), r.type, r.level, r.grp, r.person, r.bucket): (r.n, r.timely, r.us, r.us2)
        for r in rows
        if r.n or r.timely or r.us or r.us2  # a counter taken back to zero is the same as none
    }


def _counters(session):
    days, months = _rows(session, ReportDayCount, "day"), _rows(session, ReportMonthCount, "month")
    added_up: dict[tuple, list[int]] = {}
    for (metric, day, *key), values in days.items():
        total = added_up.setdefault((metric, day.replace(day=1), *key), [0, 0, 0, 0])
        for i, value in enumerate(values):
            total[i] += value
    assert months == {key: tuple(values) for key, values in added_up.items() if any(values)}  # each month: its days
    snapshots = dict(session.execute(select(ReportIncidentCounts.incident_id, ReportIncidentCounts.material)).all())
    return days, months, snapshots


def _kept_equals_rebuild(db):
    with db.read() as session:
        kept = _counters(session)
    with db.transaction() as session:
        rebuild(session)
    with db.read() as session:
        assert _counters(session) == kept
    return kept


def _figures_equal_the_reference(db, filters):
    with db.read() as session:
        for flt in filters:
            assert response_times(session, flt, TARGET) == reference.response_times(session, flt, TARGET), flt
            assert change_waits(session, flt).returned == reference.change_waits(session, flt), flt
            for level in (None, "none", "minor", "yellow"):
                breached = replace(flt, level=level)
                assert breaches(session, breached) == reference.breaches(session, breached), breached
            for by in ("all", "type", "level", "group"):
                assert resolution_time(session, flt, by) == reference.resolution_time(session, flt, by), (flt, by)
            for bucket in ("day", "week", "month"):
                expected = reference.timeliness_by_period(session, flt, bucket)
                assert timeliness_by_period(session, flt, bucket) == expected, (flt, bucket)
            rates = timeliness_by_all(session, flt)
            assert rates["all"][0].resolved == sum(row.resolved for row in expected)
            spans = reference.completed_tasks(session, flt)
            expected_groups = group_rows(reference.group_totals(spans))
            assert [(r.group, r.completed, r.contributors, r.waiting_hours, r.working_hours)
                    for r in workload_by_group(session, flt) if r.completed] == [
                (r.group, r.completed, r.contributors, r.waiting_hours, r.working_hours) for r in expected_groups
            ], flt  # fmt: skip


def test_the_counters_the_actions_kept_equal_a_rebuild(db, busy):  # noqa: F811
    kept, months, snapshots = _kept_equals_rebuild(db)
    assert {key[0] for key in kept} >= {"resolved", "resolution_time", "closed", "to_first_step", "task", "change_wait"}
    assert {key[0] for key in months} == {key[0] for key in kept}
    assert len(snapshots) >= 5
    assert not [key for key in kept if key[0] == "task" and key[4] in ("", "requester")]  # no report counts them


def test_upgrading_from_0021_with_incidents_present_writes_the_counters_a_rebuild_writes(db, database_url, busy):  # noqa: F811
    with db.read() as session:
        kept = _counters(session)
    config = alembic_config(database_url)
    command.downgrade(config, "0021")
    command.upgrade(config, "head")
    with db.read() as session:
        assert _counters(session) == kept
        assert closures(session, ReportFilter(T0, T0 + 72 * H))[0].count == 1  # A, closed as resolved


def _random_history(desk, service, actors, clock, db, rng: random.Random, start=T0) -> list[int]:
    """About a dozen incidents over four days (09:00 Shanghai on day one → across three midnights),
    each moved a random number of steps along the process at random times."""
    incidents: list[int] = []
    hours = 0.0
    for _ in range(rng.randrange(8, 14)):
        hours += rng.choice([0.5, 1, 3, 7, 11])
        clock.move_to(start + hours * H)
        kind = rng.choice(["fault", "fault", "request", "complaint"])
        facts = {"complaints": rng.choice([0, 20, 200])} if kind == "fault" else {}
        data = registration(kind, solved=rng.random() < 0.2, **facts)
        incident = desk.register(data, requester="requester")
        incidents.append(incident)
        if rng.random() < 0.4:
            service.fire_due_timers()
        step = rng.random()
        specs = desk.open_specs(incident)
        if "initial_support" not in specs:
            continue
        if step < 0.3:
            desk.complete("service_desk", incident, "initial_support", resolved())
        else:
            group = rng.choice(["development", "test", "information_systems"])
            target = pass_on("first_line") if step < 0.6 else pass_on("second_line", group)
            desk.complete("service_desk", incident, "initial_support", target)
    for incident in incidents:  # a second round: resolve, confirm or reject, close
        hours += rng.choice([0.5, 2, 5])
        clock.move_to(start + hours * H)
        service.fire_due_timers()
        specs = desk.open_specs(incident)
        for spec in ("first_line_handling", "second_line_handling"):
            if spec in specs and rng.random() < 0.8:
                desk.complete(desk.task(incident, spec).candidate_role, incident, spec, resolved())
        if "confirm_resolution" in desk.open_specs(incident):
            answer = rng.random() < 0.7
            desk.complete(
                "requester",
                incident,
                "confirm_resolution",
                {"confirmation": {"resolved": answer, "comment": "还有问题"}},
            )
            if answer and rng.random() < 0.8:
                code = rng.choice(["resolved", "workaround"])
                desk.complete("service_desk", incident, "close_incident",
                              {"closure": {"code": code, "follow_up": "none"}})  # fmt: skip
    if len(incidents) > 3 and rng.random() < 0.7:  # one becomes part of a major incident, afterwards
        child, parent = rng.sample(incidents, 2)
        links.link(service, actors["incident_manager"], child, PART_OF, parent)
    return incidents


@pytest.mark.long
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_histories_keep_counters_equal_to_a_rebuild_and_figures_equal_to_the_reference(
    db, desk, service, actors, clock, seed
):
    rng = random.Random(seed)
    _random_history(desk, service, actors, clock, db, rng)
    _kept_equals_rebuild(db)
    filters = [
        ReportFilter(T0, T0 + 120 * H),  # from 09:00: ragged first day, whole days, ragged last day
        ReportFilter(T0 - 9 * H, T0 + 87 * H),  # whole local days only
        ReportFilter(T0 + 2 * H, T0 + 5 * H),  # within one day
        ReportFilter(T0, T0 + 120 * H, type="fault"),
        ReportFilter(T0, T0 + 120 * H, level="none"),
        ReportFilter(T0 - 9 * H, T0 + 111 * H, group="second_line"),
        ReportFilter(T0 - 9 * H, T0 + 111 * H, group="initial_support"),
    ]
    _figures_equal_the_reference(db, filters)


@pytest.mark.long
@pytest.mark.parametrize("seed", [4, 5])
def test_histories_across_the_end_of_a_month_read_whole_months_from_the_month_counters(
    db, desk, service, actors, clock, seed
):
    """From 09:00 on 30 March (Shanghai) into April: periods made of whole months and days at their ends
    (and ragged ends) give the figures of the old Python path, also per month."""
    start = T0 + 28 * 24 * H
    _random_history(desk, service, actors, clock, db, random.Random(seed), start)
    _, months, _ = _kept_equals_rebuild(db)
    assert {key[1] for key in months} == {date(2026, 3, 1), date(2026, 4, 1)}
    march, april, may = midnight(date(2026, 3, 1)), midnight(date(2026, 4, 1)), midnight(date(2026, 5, 1))
    filters = [
        ReportFilter(march, april + 48 * H),  # March from its month, 1–2 April from their days
        ReportFilter(march - 19 * 24 * H, may),  # days of February, then March and April from their months
        ReportFilter(start - 5 * H, may + 3 * H),  # ragged ends, days of March, April's month
        ReportFilter(march, may, type="fault"),
        ReportFilter(march, may, level="none"),
        ReportFilter(march, may, group="second_line"),
        ReportFilter(march - 24 * H, may, group="initial_support"),
    ]
    _figures_equal_the_reference(db, filters)
