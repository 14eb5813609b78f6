"""Reading the per-day counters (`app.reports.counters`) for a report's period.

A period is cut into whole local days, read from the counters (one row per day and key), and the
ragged ends before the first and after the last local midnight, which are worked out from the
incidents there by the same facts (a part of one day each). Both add up to exactly what adding
the facts of every incident of the period would give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Incident
from app.reports.counters import (
    CLOSED,
    DURATIONS,
    RESOLUTION_TIME,
    RESOLVED,
    TASK,
    TO_FIRST_STEP,
    TO_REGISTER,
    TO_REGISTER_SECONDS,
    TOTAL,
    ZONE,
    centi_hours,
    facts,
    incident_facts,
    local_day,
    seconds_bucket,
)
from app.reports.filters import ReportFilter
from app.reports.models import ReportDayCount, ReportTaskSpan

DIMENSIONS = ("type", "level", "grp", "person")
# The incident instant each metric's facts fall on (for the ragged ends of a period).
_INSTANT = {
    RESOLVED: Incident.resolved_at,
    RESOLUTION_TIME: Incident.resolved_at,
    CLOSED: Incident.closed_at,
    TO_REGISTER: Incident.registered_at,
    TO_REGISTER_SECONDS: Incident.registered_at,
    TO_FIRST_STEP: Incident.registered_at,
}


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZONE).astimezone(UTC)


def split(start: datetime, end: datetime) -> tuple[tuple[date, date] | None, list[tuple[datetime, datetime]]]:
    """[start, end) as whole local days [first, last) and the ragged parts outside them."""
    if end <= start:
        return None, []
    first = local_day(start)
    if midnight(first) < start:
        first += timedelta(days=1)
    last = local_day(end)
    if first >= last:
        return None, [(start, end)]
    ragged = [(start, midnight(first))] if start < midnight(first) else []
    if midnight(last) < end:
        ragged.append((midnight(last), end))
    return (first, last), ragged


def counted(
    session: Session,
    flt: ReportFilter,
    metric: str,
    dims: tuple[str, ...],
    *,
    by_day: bool = False,
    histogram: bool = False,
    level: bool = True,
) -> dict[tuple, list[int]]:
    """The facts of `metric` in the period (of the filter's type and, when `level`, current level),
    added up per `dims` (of "type", "level", "grp", "person"), then per local day (`by_day`) and
    per histogram bar (`histogram`: the key's last element is the bar, `TOTAL` for the totals) →
    [n, timely, us, us2]; keys that count nothing are left out."""
    days, ragged = split(flt.start, flt.end)
    found: dict[tuple, list[int]] = {}

    def add(key: tuple, values: Iterable[int]) -> None:
        total = found.setdefault(key, [0, 0, 0, 0])
        for i, value in enumerate(values):
            total[i] += int(value or 0)  # PostgreSQL sums bigints as numeric

    if days is not None:
        columns = [getattr(ReportDayCount, dim) for dim in dims]
        if by_day:
            columns.append(ReportDayCount.day)
        if histogram:
            columns.append(ReportDayCount.bucket)
        criteria = [ReportDayCount.metric == metric, ReportDayCount.day >= days[0], ReportDayCount.day < days[1]]
        if not histogram:
            criteria.append(ReportDayCount.bucket == TOTAL)
        if flt.type is not None:
            criteria.append(ReportDayCount.type == flt.type)
        if level and flt.level is not None:
            criteria.append(ReportDayCount.level == flt.level)
        sums = [func.sum(getattr(ReportDayCount, name)) for name in ("n", "timely", "us", "us2")]
        query = select(*columns, *sums).where(*criteria).group_by(*columns)
        for row in session.execute(query):
            add(tuple(row[: len(columns)]), row[len(columns) :])
    for start, end in ragged:
        for fact in _ragged_facts(session, metric, start, end):
            if flt.type is not None and fact.type != flt.type:
                continue
            if level and flt.level is not None and fact.level != flt.level:
                continue
            head = tuple(getattr(fact, dim) for dim in dims) + ((local_day(fact.at),) if by_day else ())
            if not histogram:
                add(head, (1, int(fact.timely), fact.us, fact.us2))
                continue
            add((*head, TOTAL), (1, int(fact.timely), fact.us, fact.us2))
            add((*head, seconds_bucket(fact.us) if metric == TO_REGISTER_SECONDS else centi_hours(fact.us)), (1,))
    return {key: values for key, values in found.items() if values[0]}  # counters taken back to 0 count nothing


def _ragged_facts(session: Session, metric: str, start: datetime, end: datetime):
    """The facts of `metric` whose instant is in [start, end) (a part of one day)."""
    if metric == TASK:
        ids_query = select(ReportTaskSpan.incident_id).where(
            ReportTaskSpan.completed_at >= start, ReportTaskSpan.completed_at < end
        )
    else:
        instant = _INSTANT[metric]
        ids_query = select(Incident.id).where(instant >= start, instant < end)
    ids = sorted(set(session.scalars(ids_query)))
    source = TO_REGISTER if metric == TO_REGISTER_SECONDS else metric
    for item in incident_facts(session, ids).values():
        for fact in facts(item):
            if fact.metric == source and start <= fact.at < end:
                yield fact


def totals(found: dict[tuple, list[int]], key: Callable[[tuple], object | None]) -> dict[object, list[int]]:
    """`counted` rows (without bars) added up per `key(dims)`; rows whose key is None are left out."""
    result: dict[object, list[int]] = {}
    for dims, values in found.items():
        name = key(dims)
        if name is None:
            continue
        total = result.setdefault(name, [0, 0, 0, 0])
        for i, value in enumerate(values):
            total[i] += value
    return result


def histograms(
    found: dict[tuple, list[int]], key: Callable[[tuple], object | None]
) -> dict[object, tuple[int, int, dict[int, int]]]:
    """`counted(histogram=True)` rows per `key(dims)` (the dims without the bar): (count, sum in
    microseconds, bar → count)."""
    result: dict[object, list] = {}
    for row, values in found.items():
        *dims, bar = row
        name = key(tuple(dims))
        if name is None:
            continue
        entry = result.setdefault(name, [0, 0, {}])
        if bar == TOTAL:
            entry[0] += values[0]
            entry[1] += values[2]
        else:
            entry[2][bar] = entry[2].get(bar, 0) + values[0]
    return {name: (n, us, bars) for name, (n, us, bars) in result.items()}


__all__ = ["DURATIONS", "counted", "histograms", "split", "totals"]
