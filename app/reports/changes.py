"""Incidents that waited for a change (等待变更): transferred to the defect or requirement process,
back with their handling group when the change was reported done (docs/reports.md).

The wait is the change's own duration: transfer → return, for the incidents that came back in the
period (a second transfer of the same incident is a second wait). It does not count against the
incident's deadline, which moves by as much; the timely resolution rate then judges the handling
as for any incident. Each wait is worked out when the return is written (`app.reports.rollup`) and
counted on the return's local day (`app.reports.counters`), so a period reads counters, not waits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.incidents.projection import WAITING_CHANGE
from app.models import Incident
from app.reports.counted import Request, counted_of, histograms
from app.reports.counters import CHANGE_WAITED
from app.reports.filters import ReportFilter
from app.reports.stats import DurationRow, histogram_row

WAITED = "waited_for_change"
WAITS: Request = (CHANGE_WAITED, (), None, True, True)  # the counters `change_waits` reads


@dataclass(frozen=True)
class ChangeWaits:
    returned: DurationRow  # the waits that ended in the period
    waiting_now: int


def change_waits(session: Session, flt: ReportFilter) -> ChangeWaits:
    """The waits that ended in the period, from the counters (incidents of the filter's type and current
    level; the group filter does not apply), and the incidents waiting now."""
    found = histograms(counted_of(session, flt, WAITS), lambda dims: WAITED)
    waiting = (
        select(func.count()).select_from(Incident).where(Incident.status == WAITING_CHANGE, *flt.incident_criteria())
    )
    return ChangeWaits(histogram_row(WAITED, *found.get(WAITED, (0, 0, {}))), session.scalar(waiting) or 0)
