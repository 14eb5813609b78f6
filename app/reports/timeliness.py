"""Timely resolution rate (事件处理及时率) = incidents resolved within their deadline ÷ incidents resolved.

Resolved in the period: `resolved_at` in [start, end). A reopened incident counts with its final
resolution only (reopening clears `resolved_at` and `resolved_in_time`; the next resolution sets
them again). Timely: `resolved_in_time`, i.e. resolved at or before `due_at` (the deadline after
any re-classification, always counted from registration).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from app.models import Incident
from app.reports.counted import Request, counted_of
from app.reports.counters import RESOLVED, ZONE
from app.reports.filters import (
    ALL,
    LEVEL_ORDER,
    SHANGHAI,
    SUPPORT_GROUPS,
    TYPE_ORDER,
    Dimension,
    Period,
    ReportFilter,
    bucket_ends,
    bucket_key,
    group_criteria,
    ordered,
)


@dataclass(frozen=True)
class RateRow:
    key: str
    resolved: int
    timely: int
    rate: float | None  # timely / resolved; None when nothing was resolved


def rate(resolved: int, timely: int) -> float | None:
    return None if resolved == 0 else timely / resolved


def rate_rows(counts: Iterable[tuple[str, int, int]], order: Sequence[str] = ()) -> list[RateRow]:
    """(key, resolved, timely) counts → rows; repeated keys are added up; keys in `order` first, in
    that order (also when they have no counts: resolved 0, rate None), then the others alphabetically."""
    totals: dict[str, list[int]] = {key: [0, 0] for key in order}
    for key, resolved, timely in counts:
        total = totals.setdefault(key, [0, 0])
        total[0] += resolved
        total[1] += timely
    first = list(dict.fromkeys(order))
    keys = first + sorted(set(totals) - set(first))
    return [RateRow(key, totals[key][0], totals[key][1], rate(*totals[key])) for key in keys]


# ---------------------------------------------------------------------------------- queries

RATES: Request = (RESOLVED, ("type", "level", "grp"), None, False, True)  # the counters `timeliness_by_all` reads


def per_period(period: Period) -> Request:
    """The counters `timeliness_by_period` reads (in the counters' zone)."""
    return (RESOLVED, ("grp",), "month" if period == "month" else "day", False, True)


def _resolved_in(flt: ReportFilter):
    return [
        Incident.resolved_at.is_not(None),
        Incident.resolved_at >= flt.start,
        Incident.resolved_at < flt.end,
        *flt.incident_criteria(),
        *group_criteria(flt.group, Incident.resolved_stage, Incident.current_group),
    ]


def _timely():
    return func.sum(case((Incident.resolved_in_time.is_(True), 1), else_=0))


def timeliness(session: Session, flt: ReportFilter, by: Dimension = "all") -> list[RateRow]:
    """The rate over the period: one row ("all"), or one per type, level, or resolving support group."""
    return timeliness_by_all(session, flt)[by]


def timeliness_by_all(session: Session, flt: ReportFilter) -> dict[str, list[RateRow]]:
    """The rate overall and per type, level and resolving support group, from the per-day counters
    (`app.reports.counted`): counts per (type, level, group) — a few dozen rows per day at most — and
    each breakdown adds those counts up.

    The support group is the stage that resolved the incident (`resolved_stage`) and, for second
    line, the group it was dispatched to (`current_group`, which resolution does not change).
    """
    found = counted_of(session, flt, RATES)
    rows = [(type_, level, group, n, t) for (type_, level, group), (n, t, _, _) in found.items()
            if flt.group_matches(group)]  # fmt: skip
    result = {ALL: rate_rows([(ALL, sum(row[3] for row in rows), sum(row[4] for row in rows))])}
    for by, position, canonical in (("type", 0, TYPE_ORDER), ("level", 1, LEVEL_ORDER), ("group", 2, SUPPORT_GROUPS)):
        counts = [(row[position], row[3], row[4]) for row in rows]
        result[by] = rate_rows(counts, ordered((key for key, _, _ in counts), canonical))
    return result


def timeliness_by_period(
    session: Session, flt: ReportFilter, period: Period = "month", tz: tzinfo = SHANGHAI
) -> list[RateRow]:
    """The rate per local day, ISO week or month of the filter's period (every bucket, empty ones too),
    from the per-day counters; in a zone other than the counters' one, counted by the database from
    the incidents (each resolution goes to the first bucket that ends after it)."""
    ends = bucket_ends(flt.start, flt.end, period, tz)
    if not ends:
        return []
    if tz != ZONE:
        return _by_period_from_incidents(session, flt, ends)
    found = counted_of(session, flt, per_period(period))
    noon = time(12)
    counts = [
        (bucket_key(datetime.combine(day, noon, tzinfo=ZONE), period, tz), n, t)
        for (group, day), (n, t, _, _) in found.items()
        if flt.group_matches(group)
    ]
    return rate_rows(counts, [key for key, _ in ends])


def _by_period_from_incidents(session: Session, flt: ReportFilter, ends: list[tuple[str, datetime]]) -> list[RateRow]:
    bucket = case(*((Incident.resolved_at < until, literal(key)) for key, until in ends))
    query = select(bucket, func.count(), _timely()).where(*_resolved_in(flt)).group_by(bucket)
    counts = [(key, resolved, in_time or 0) for key, resolved, in_time in session.execute(query)]
    return rate_rows(counts, [key for key, _ in ends])
