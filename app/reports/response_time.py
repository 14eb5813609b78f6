"""Response time: how soon an incident is taken up after it was raised (spec §4.3, revised
2026-11-30: clocks run from when an incident is raised).

- **Time to register**: the requester's portal submission (`created_at`) → the service desk's (or
  first line's) registration (`registered_at`), for the incidents raised in the portal and
  registered in the period. An incident the desk raises itself is registered at once and not
  counted. The share registered within the registration target is reported beside it.
- **Time to first handling step**: raised → the first claim or completion of a handling step
  (初始支持, 一线, 二线, 紧急事件处理), for the incidents registered in the period that reached a
  handling step (solved at registration: not counted).

Figures are hours, summarized like resolution time (`duration_row`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Incident
from app.reports.events import AuditRow, select_rows
from app.reports.filters import ReportFilter
from app.reports.resolution_time import DurationRow, duration_row, hours_between

TO_REGISTER = "to_register"
TO_FIRST_STEP = "to_first_step"
HANDLING_STEPS = frozenset(("initial_support", "first_line_handling", "second_line_handling", "coordinate_emergency"))
FIRST_ACTIONS = ("task_claimed", "task_completed")


@dataclass(frozen=True)
class ResponseTimes:
    to_register: DurationRow
    registered_in_target: int  # of to_register.count
    to_first_step: DurationRow


def first_steps(rows: Iterable[AuditRow]) -> dict[int, datetime]:
    """Per incident, when a handling step was first claimed or completed."""
    first: dict[int, datetime] = {}
    for row in rows:
        if row.kind in FIRST_ACTIONS and row.spec_id in HANDLING_STEPS:
            if row.incident_id not in first or row.at < first[row.incident_id]:
                first[row.incident_id] = row.at
    return first


def response_times_of(
    incidents: Iterable[tuple[int, datetime, datetime]], first_step: Mapping[int, datetime], target: timedelta
) -> ResponseTimes:
    """`incidents`: (id, raised, registered) of the incidents registered in the period."""
    waits: list[float] = []
    in_target = 0
    to_first: list[float] = []
    for incident_id, raised, registered in incidents:
        if registered > raised:  # raised in the portal: it waited for the registration
            waits.append(hours_between(raised, registered))
            in_target += registered - raised <= target
        if incident_id in first_step:
            to_first.append(hours_between(raised, first_step[incident_id]))
    return ResponseTimes(duration_row(TO_REGISTER, waits), in_target, duration_row(TO_FIRST_STEP, to_first))


def response_times(session: Session, flt: ReportFilter, target: timedelta) -> ResponseTimes:
    """The response times of the incidents registered in the period (of the filter's type and level)."""
    registered = (
        Incident.registered_at.is_not(None),
        Incident.registered_at >= flt.start,
        Incident.registered_at < flt.end,
        *flt.incident_criteria(),
    )
    incidents = list(
        session.execute(select(Incident.id, Incident.created_at, Incident.registered_at).where(*registered))
    )
    rows = select_rows(session, FIRST_ACTIONS, AuditEvent.incident_id.in_(select(Incident.id).where(*registered)))
    return response_times_of(incidents, first_steps(rows), target)
