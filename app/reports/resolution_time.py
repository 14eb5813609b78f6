"""Resolution time: registration (`registered_at`) → resolution (`resolved_at`), in hours.

The incidents are those resolved in the period, as for the timely resolution rate (final resolution
of a reopened incident). Percentiles are by nearest rank: the p-th percentile of n sorted values is
the value at rank ceil(p/100 · n) (1-based), so every figure is the time of a real incident; the
median is the 50th percentile by the same rule (for an even count, the lower of the two middle
values). Figures are rounded to 0.01 h (36 s).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
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
    key_or_none,
    ordered,
    support_group,
)


@dataclass(frozen=True)
class DurationRow:
    key: str
    count: int
    mean_hours: float | None  # None when count == 0
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def nearest_rank(sorted_values: Sequence[float], percent: float) -> float:
    """The `percent`-th percentile of ascending values by nearest rank (value at rank ceil(p/100·n))."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 < percent <= 100:
        raise ValueError("percent must be in (0, 100]")
    rank = math.ceil(percent / 100 * len(sorted_values))
    return sorted_values[rank - 1]


def duration_row(key: str, hours: Iterable[float]) -> DurationRow:
    values = sorted(hours)
    if not values:
        return DurationRow(key, 0, None, None, None, None)
    return DurationRow(
        key,
        len(values),
        round(math.fsum(values) / len(values), 2),
        round(nearest_rank(values, 50), 2),
        round(nearest_rank(values, 90), 2),
        round(values[-1], 2),
    )


def duration_rows(durations: Iterable[tuple[str, float]], order: Sequence[str] = ()) -> list[DurationRow]:
    """(key, hours) per incident → one row per key: keys in `order` first (also when empty), then the
    others alphabetically."""
    grouped: dict[str, list[float]] = {key: [] for key in order}
    for key, hours in durations:
        grouped.setdefault(key, []).append(hours)
    first = list(dict.fromkeys(order))
    keys = first + sorted(set(grouped) - set(first))
    return [duration_row(key, grouped[key]) for key in keys]


def resolution_time(session: Session, flt: ReportFilter, by: Dimension = "all") -> list[DurationRow]:
    """Resolution-time figures of the incidents resolved in the period, overall or per type, level or
    resolving support group (as in `timeliness`)."""
    query = select(
        Incident.registered_at, Incident.resolved_at, Incident.type, Incident.level, Incident.resolved_stage,
        Incident.current_group,
    ).where(
        Incident.resolved_at.is_not(None),
        Incident.registered_at.is_not(None),
        Incident.resolved_at >= flt.start,
        Incident.resolved_at < flt.end,
        *flt.incident_criteria(),
        *group_criteria(flt.group, Incident.resolved_stage, Incident.current_group),
    )  # fmt: skip
    durations: list[tuple[str, float]] = []
    for registered_at, resolved_at, type_, level, stage, group in session.execute(query):
        key = {
            "all": ALL,
            "type": key_or_none(type_),
            "level": key_or_none(level),
            "group": key_or_none(support_group(stage, group)),
        }[by]
        durations.append((key, hours_between(registered_at, resolved_at)))
    if by == "all":
        return duration_rows(durations, [ALL])
    canonical = {"type": TYPE_ORDER, "level": LEVEL_ORDER, "group": SUPPORT_GROUPS}[by]
    return duration_rows(durations, ordered((key for key, _ in durations), canonical))
