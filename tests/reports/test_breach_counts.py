"""Deadline breaches in a period: each incident counted once, under the level of its first breach in the
period that the filter selects — also when it breached again at another level. An incident's first-ever
breach counts at once, from the per-day counters; the others look for an earlier one in the period. The
counters written by a rebuild (migration 0045) give what the old count of every breach row gave
(`_recount`), over ragged ends, whole days and whole months, an incident whose first breach is before
the period, and children of major incidents."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from app.links import service as links
from app.links.models import PART_OF
from app.reports import ReportFilter, breaches
from app.reports.backlog import CountRow, _breaches_in, _counts
from app.reports.counted import midnight
from app.reports.counters import rebuild
from app.reports.events import AuditRow
from app.reports.filters import LEVEL_ORDER, key_or_none_sql
from app.reports.memory import ChainMemory
from app.reports.models import BREACH, ReportEvent
from app.reports.rollup import facts_at
from tests.conftest import T0
from tests.driver import registration

H = timedelta(hours=1)


def test_an_incident_counts_once_under_its_first_breach_that_the_filter_selects(db, desk):
    twice, once = desk.register(registration()), desk.register(registration())
    with db.transaction() as session:
        session.add_all([
            ReportEvent(audit_id=900001, incident_id=twice, kind=BREACH, at=T0 + 1 * H, level="yellow",
                        support_group="first_line"),
            ReportEvent(audit_id=900003, incident_id=twice, kind=BREACH, at=T0 + 5 * H, level="orange",
                        support_group="second_line:development", breached_before=True),
            ReportEvent(audit_id=900002, incident_id=once, kind=BREACH, at=T0 + 2 * H, level="orange",
                        support_group="first_line"),
        ])  # fmt: skip
        rebuild(session)
    with db.read() as session:
        assert breaches(session, ReportFilter(T0, T0 + 24 * H)) == [CountRow("orange", 1), CountRow("yellow", 1)]
        assert breaches(session, ReportFilter(T0 + 3 * H, T0 + 24 * H)) == [CountRow("orange", 1)]
        assert breaches(session, ReportFilter(T0, T0 + 24 * H, level="orange")) == [CountRow("orange", 2)]
        assert breaches(session, ReportFilter(T0, T0 + 24 * H, group="second_line:development")) == [
            CountRow("orange", 1)
        ]
        assert breaches(session, ReportFilter(T0 + 6 * H, T0 + 24 * H)) == []


def test_a_breach_says_whether_its_incident_breached_before_kept_and_rebuilt_alike():
    """The flag the count relies on: the chain memory (what an action keeps) and a walk of the chain (what a
    rebuild writes) give the first breach False and the later ones True, across other rows between them."""
    rows = [AuditRow(1, 7, T0, "started")]
    for number, kind in enumerate(
        ("deadline_breach", "reopened", "dispatched", "deadline_breach", "deadline_breach"), 2
    ):
        rows.append(
            AuditRow(number, 7, T0 + number * H, kind, 3, "某人", "first_line", level="orange", stage="first_line")
        )
    memory, kept, walked = ChainMemory(), [], []
    for index, row in enumerate(rows):
        if row.kind == BREACH:
            kept += [event.breached_before for event in memory.facts(row)]
            walked += [event.breached_before for event in facts_at(rows, index)]
        memory.fold(row)
        memory = ChainMemory.loads(memory.dumps())  # as stored between two actions
    assert kept == walked == [False, True, True]


def _recount(session, flt: ReportFilter) -> list[CountRow]:
    """The count before the counters (session 7): every breach row of the period, each incident's first
    one in it that the filter selects."""
    earlier = aliased(ReportEvent)
    level_key = key_or_none_sql(ReportEvent.level)
    firsts = select(level_key.label("level")).where(
        *_breaches_in(ReportEvent, flt),
        *flt.of_incidents(ReportEvent.incident_id, level=False),
        ~exists().where(
            earlier.incident_id == ReportEvent.incident_id,
            earlier.audit_id < ReportEvent.audit_id,
            *_breaches_in(earlier, flt),
        ),
    )
    query = select(firsts.subquery().c.level, func.count()).group_by("level")
    return list(_counts(session.execute(query), LEVEL_ORDER))


MARCH, APRIL, MAY = midnight(date(2026, 3, 1)), midnight(date(2026, 4, 1)), midnight(date(2026, 5, 1))
D = 24 * H


@pytest.fixture
def breached(db, desk, service, actors):
    """Five incidents' breaches from late March into April (Shanghai days), written as a sweep's roll-up
    rows are, then the counters rebuilt: an incident breached on 30 March and again on 2 April at another
    level and group, one breached on 31 March 23:30 local (15:30 UTC), a request breached twice in April,
    an unlevelled one, and a child of a major incident."""
    again, late, request, unlevelled, child, parent = (
        desk.register(registration()), desk.register(registration()), desk.register(registration("request")),
        desk.register(registration()), desk.register(registration()), desk.register(registration()),
    )  # fmt: skip
    links.link(service, actors["incident_manager"], child, PART_OF, parent)
    rows = [
        (again, APRIL - 2 * D + 3 * H, "yellow", "first_line", False),
        (again, APRIL + D + 5 * H, "orange", "second_line:development", True),
        (late, APRIL - H / 2, "orange", "second_line:test", False),
        (request, APRIL + 2 * H, "yellow", "initial_support", False),
        (request, APRIL + 3 * D, "yellow", "first_line", True),
        (unlevelled, APRIL + 10 * D + 7 * H, None, "registration", False),
        (child, APRIL + 4 * H, "red", "first_line", False),
    ]
    with db.transaction() as session:
        session.add_all(
            ReportEvent(audit_id=900100 + number, incident_id=incident, kind=BREACH, at=at, level=level,
                        support_group=group, breached_before=before)
            for number, (incident, at, level, group, before) in enumerate(rows)
        )  # fmt: skip
        rebuild(session)


@pytest.mark.parametrize(
    "start, end",
    [
        (MARCH, MAY),  # whole months
        (MARCH + 29 * D, MAY),  # a day of March, then April's month
        (APRIL - H, APRIL + 2 * D + H / 2),  # ragged ends: the first breach of `late` and both of `again`
        (APRIL, APRIL + 2 * D),  # `again`'s first breach before the period, its second one in it
        (APRIL + 2 * D, MAY),  # the request's second breach alone
        (APRIL + 2 * H, APRIL + 2 * H + timedelta(microseconds=1)),  # one instant
    ],
)
def test_breach_counts_from_the_counters_equal_a_recount_of_every_breach(db, breached, start, end):
    filters = [
        ReportFilter(start, end), ReportFilter(start, end, type="request"), ReportFilter(start, end, type="fault"),
        ReportFilter(start, end, level="orange"), ReportFilter(start, end, level="none"),
        ReportFilter(start, end, level="yellow", group="first_line"), ReportFilter(start, end, group="second_line"),
        ReportFilter(start, end, group="second_line:development"), ReportFilter(start, end, group="registration"),
    ]  # fmt: skip
    with db.read() as session:
        for flt in filters:
            assert breaches(session, flt) == _recount(session, flt), flt


def test_the_counted_breaches_leave_out_children_and_split_at_the_period(db, breached):
    with db.read() as session:
        assert breaches(session, ReportFilter(MARCH, MAY)) == [
            CountRow("orange", 1),
            CountRow("yellow", 2),
            CountRow("none", 1),
        ]  # the child's red breach is counted through its parent (which has none)
        assert breaches(session, ReportFilter(APRIL, APRIL + 2 * D)) == [CountRow("orange", 1), CountRow("yellow", 1)]
        assert breaches(session, ReportFilter(APRIL, MAY, group="second_line")) == [CountRow("orange", 1)]
