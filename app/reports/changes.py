"""Incidents that waited for a change (等待变更): transferred to the defect or requirement process,
back with their handling group when the change was reported done (docs/reports.md).

The wait is the change's own duration: transfer → return, for the incidents that came back in the
period (a second transfer of the same incident is a second wait). It does not count against the
incident's deadline, which moves by as much; the timely resolution rate then judges the handling
as for any incident.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.incidents.projection import WAITING_CHANGE
from app.models import AuditEvent, Incident
from app.reports.events import AuditRow, select_rows
from app.reports.filters import ReportFilter
from app.reports.resolution_time import DurationRow, duration_row, hours_between

WAITED = "waited_for_change"


@dataclass(frozen=True)
class ChangeWaits:
    returned: DurationRow  # the waits that ended in the period
    waiting_now: int


def waits(rows: Iterable[AuditRow], start: datetime, end: datetime) -> list[float]:
    """Hours from each transfer to the incident's return, for returns in [start, end); rows in chain order."""
    transferred: dict[int, datetime] = {}
    hours: list[float] = []
    for row in rows:
        if row.kind == "transferred":
            transferred[row.incident_id] = row.at
        elif row.kind == "change_returned" and row.incident_id in transferred:
            since = transferred.pop(row.incident_id)
            if start <= row.at < end:
                hours.append(hours_between(since, row.at))
    return hours


def change_waits(session: Session, flt: ReportFilter) -> ChangeWaits:
    returned_in = select(AuditEvent.incident_id).where(
        AuditEvent.kind == "change_returned", AuditEvent.at >= flt.start, AuditEvent.at < flt.end
    )
    incidents = select(Incident.id).where(Incident.id.in_(returned_in), *flt.incident_criteria())
    rows = select_rows(session, ("transferred", "change_returned"), AuditEvent.incident_id.in_(incidents))
    waiting = (
        select(func.count()).select_from(Incident).where(Incident.status == WAITING_CHANGE, *flt.incident_criteria())
    )
    return ChangeWaits(duration_row(WAITED, waits(rows, flt.start, flt.end)), session.scalar(waiting) or 0)
