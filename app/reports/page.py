"""What the reports page reads of the counters, read in one statement before its figures ask for it."""

from __future__ import annotations

from datetime import tzinfo

from sqlalchemy.orm import Session

from app.reports.backlog import FIRST_BREACHES
from app.reports.changes import WAITS
from app.reports.closures import CLOSURES
from app.reports.counted import read_together
from app.reports.counters import ZONE
from app.reports.filters import Period, ReportFilter
from app.reports.resolution_time import DURATIONS
from app.reports.response_time import RESPONSES
from app.reports.timeliness import RATES, per_period
from app.reports.workload import TASKS


def read_counters(session: Session, flt: ReportFilter, period: Period, tz: tzinfo) -> None:
    """The counters of the page's rate (overall, per key and per `period` in `tz`), durations, response
    times, waits for a change, closures, workload and first breaches, read in one round trip (10 statements
    before)."""
    requests = [RATES, DURATIONS, *RESPONSES, WAITS, CLOSURES, TASKS, FIRST_BREACHES]
    if tz == ZONE:  # another zone's periods are counted from the incidents
        requests.append(per_period(period))
    read_together(session, flt, requests)
