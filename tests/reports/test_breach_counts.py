"""Deadline breaches in a period: each incident counted once, under the level of its first breach in the
period that the filter selects — also when it breached again at another level. A breach of an incident
that never breached before counts at once; the others look for an earlier one in the period."""

from __future__ import annotations

from datetime import timedelta

from app.reports import ReportFilter, breaches
from app.reports.backlog import CountRow
from app.reports.events import AuditRow
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
