"""Deadline breaches in a period: each incident counted once, under the level of its first breach in the
period that the filter selects — also when it breached again at another level (SQLite and PostgreSQL
count it with different statements)."""

from __future__ import annotations

from datetime import timedelta

from app.reports import ReportFilter, breaches
from app.reports.backlog import CountRow
from app.reports.models import BREACH, ReportEvent
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
                        support_group="second_line:development"),
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
