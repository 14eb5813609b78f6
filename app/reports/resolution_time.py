"""Resolution time: registration (`registered_at`) → resolution (`resolved_at`), in hours.

The incidents are those resolved in the period, as for the timely resolution rate (final resolution
of a reopened incident). Percentiles are by nearest rank: the p-th percentile of n sorted values is
the value at rank ceil(p/100 · n) (1-based), so every figure is the time of a real incident; the
median is the 50th percentile by the same rule (for an even count, the lower of the two middle
values). Figures are rounded to 0.01 h (36 s). They come from the per-day counters' histograms
(`app.reports.counted`, `app.reports.stats.histogram_row`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.reports.counted import Request, counted_of, histograms
from app.reports.counters import RESOLUTION_TIME
from app.reports.filters import (
    ALL,
    LEVEL_ORDER,
    SUPPORT_GROUPS,
    TYPE_ORDER,
    Dimension,
    ReportFilter,
    ordered,
)
from app.reports.stats import DurationRow, histogram_row

__all__ = ["DurationRow", "resolution_time", "resolution_time_by_all"]

DURATIONS: Request = (RESOLUTION_TIME, ("type", "level", "grp"), None, True, True)  # what the breakdowns read


def resolution_time(session: Session, flt: ReportFilter, by: Dimension = "all") -> list[DurationRow]:
    """Resolution-time figures of the incidents resolved in the period, overall or per type, level or
    resolving support group (as in `timeliness`)."""
    return resolution_time_by_all(session, flt, (by,))[by]


def resolution_time_by_all(
    session: Session, flt: ReportFilter, breakdowns: tuple[Dimension, ...] = ("all", "type", "level", "group")
) -> dict[str, list[DurationRow]]:
    """`resolution_time` for each of `breakdowns`, from one read of the counters."""
    found = counted_of(session, flt, DURATIONS)
    keys = {
        "all": lambda dims: ALL,
        "type": lambda dims: dims[0],
        "level": lambda dims: dims[1],
        "group": lambda dims: dims[2],
    }
    figures = {}
    for by in breakdowns:
        name = keys[by]
        per_key = histograms(found, lambda dims, name=name: name(dims) if flt.group_matches(dims[2]) else None)
        figures[by] = [histogram_row(key, *per_key[key]) for key in sorted(per_key)]
    canonical = {"all": (ALL,), "type": TYPE_ORDER, "level": LEVEL_ORDER, "group": SUPPORT_GROUPS}
    result = {}
    for by, rows in figures.items():
        by_key = {row.key: row for row in rows}
        if by == "all":
            by_key.setdefault(ALL, DurationRow(ALL, 0, None, None, None, None))  # nothing resolved
        result[by] = [by_key[key] for key in ordered(by_key, canonical[by])]
    return result
