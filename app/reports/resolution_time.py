"""Resolution time: registration (`registered_at`) → resolution (`resolved_at`), in hours.

The incidents are those resolved in the period, as for the timely resolution rate (final resolution
of a reopened incident). Percentiles are by nearest rank: the p-th percentile of n sorted values is
the value at rank ceil(p/100 · n) (1-based), so every figure is the time of a real incident; the
median is the 50th percentile by the same rule (for an even count, the lower of the two middle
values). Figures are rounded to 0.01 h (36 s). The database computes them (`app.reports.stats`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Incident
from app.reports.filters import (
    ALL,
    LEVEL_ORDER,
    SUPPORT_GROUPS,
    TYPE_ORDER,
    Dimension,
    ReportFilter,
    group_criteria,
    key_or_none_sql,
    ordered,
    support_group_sql,
)
from app.reports.stats import DurationRow, duration_stats_by, seconds_between

__all__ = ["DurationRow", "resolution_time", "resolution_time_by_all"]


def resolution_time(session: Session, flt: ReportFilter, by: Dimension = "all") -> list[DurationRow]:
    """Resolution-time figures of the incidents resolved in the period, overall or per type, level or
    resolving support group (as in `timeliness`)."""
    return resolution_time_by_all(session, flt, (by,))[by]


def resolution_time_by_all(
    session: Session, flt: ReportFilter, breakdowns: tuple[Dimension, ...] = ("all", "type", "level", "group")
) -> dict[str, list[DurationRow]]:
    """`resolution_time` for each of `breakdowns`, computed together (one scan on PostgreSQL)."""
    keys = {
        "all": None,
        "type": key_or_none_sql(Incident.type),
        "level": key_or_none_sql(Incident.level),
        "group": support_group_sql(Incident.resolved_stage, Incident.current_group),
    }
    criteria = (
        Incident.resolved_at.is_not(None),
        Incident.registered_at.is_not(None),
        Incident.resolved_at >= flt.start,
        Incident.resolved_at < flt.end,
        *flt.incident_criteria(),
        *group_criteria(flt.group, Incident.resolved_stage, Incident.current_group),
    )
    seconds = seconds_between(session, Incident.registered_at, Incident.resolved_at)
    found = duration_stats_by(session, {by: keys[by] for by in breakdowns}, seconds, *criteria)
    canonical = {"all": (ALL,), "type": TYPE_ORDER, "level": LEVEL_ORDER, "group": SUPPORT_GROUPS}
    result = {}
    for by, rows in found.items():
        by_key = {row.key: row for row in rows}
        if by == "all":
            by_key.setdefault(ALL, DurationRow(ALL, 0, None, None, None, None))  # nothing resolved
        result[by] = [by_key[key] for key in ordered(by_key, canonical[by])]
    return result
