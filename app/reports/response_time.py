"""Response time: how soon an incident is taken up after it was raised (spec §4.3, revised
2026-11-30: clocks run from when an incident is raised).

- **Time to register**: the requester's portal submission (`created_at`) → the service desk's (or
  first line's) registration (`registered_at`), for the incidents raised in the portal and
  registered in the period. An incident the desk raises itself is registered at once and not
  counted. The share registered within the registration target is reported beside it.
- **Time to first handling step**: raised → the first claim or completion of a handling step
  (初始支持, 一线, 二线, 紧急事件处理), for the incidents registered in the period that reached a
  handling step (solved at registration: not counted).

Figures are hours, summarized like resolution time, by the database (`app.reports.stats`); the
first handling step of each incident is kept by `app.reports.rollup`. "Within the target" allows
a millisecond for SQLite's floating-point day arithmetic (exactly at the target is within).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from app.models import Incident
from app.reports.filters import ReportFilter
from app.reports.models import FIRST_STEP, ReportEvent
from app.reports.stats import DurationRow, duration_stats, seconds_between

TO_REGISTER = "to_register"
TO_FIRST_STEP = "to_first_step"
TOLERANCE = 0.001  # seconds


@dataclass(frozen=True)
class ResponseTimes:
    to_register: DurationRow
    registered_in_target: int  # of to_register.count
    to_first_step: DurationRow


def response_times(session: Session, flt: ReportFilter, target: timedelta) -> ResponseTimes:
    """The response times of the incidents registered in the period (of the filter's type and level)."""
    registered = (
        Incident.registered_at.is_not(None),
        Incident.registered_at >= flt.start,
        Incident.registered_at < flt.end,
        *flt.incident_criteria(),
    )
    waited = seconds_between(session, Incident.created_at, Incident.registered_at)
    in_portal = (*registered, Incident.registered_at > Incident.created_at)  # raised in the portal: it waited
    to_register = duration_stats(session, select(literal(TO_REGISTER), waited).where(*in_portal), (TO_REGISTER,))
    in_target = session.scalar(
        select(func.sum(case((waited <= target.total_seconds() + TOLERANCE, 1), else_=0))).where(*in_portal)
    )
    to_first = (
        select(literal(TO_FIRST_STEP), seconds_between(session, Incident.created_at, ReportEvent.at))
        .select_from(Incident)
        .join(ReportEvent, (ReportEvent.incident_id == Incident.id) & (ReportEvent.kind == FIRST_STEP))
        .where(*registered)
    )
    first = duration_stats(session, to_first, (TO_FIRST_STEP,))
    return ResponseTimes(to_register[0], in_target or 0, first[0])
