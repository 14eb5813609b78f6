"""Reading the per-day counters (`app.reports.counters`) for a report's period.

A period is cut into whole local days, read from the counters, and the ragged ends before the first
and after the last local midnight, which are worked out from the incidents there by the same facts
(a part of one day each). The whole local months among those days are read from the month counters
(one row per month and key), the days before and after them from the day counters, all in one
statement. Together they add up to exactly what adding the facts of every incident of the period
would give.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import CompoundSelect, Select, bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from app.models import Incident
from app.reports.counters import (
    BREACHED,
    CHANGE_WAITED,
    CLOSED,
    DURATIONS,
    RESOLUTION_TIME,
    RESOLVED,
    TASK,
    TO_FIRST_STEP,
    TO_REGISTER,
    TO_REGISTER_SECONDS,
    TOTAL,
    VALUE_COLUMNS,
    ZONE,
    centi_hours,
    facts,
    incident_facts,
    local_day,
    month_of,
    seconds_bucket,
)
from app.reports.filters import ReportFilter
from app.reports.models import BREACH, CHANGE_WAIT, ReportDayCount, ReportEvent, ReportMonthCount, ReportTaskSpan

DIMENSIONS = ("type", "level", "grp", "person")
Per = Literal["day", "month"] | None  # what `counted_of` adds up per, besides its dimensions
# The incident instant each metric's facts fall on (for the ragged ends of a period).
_INSTANT = {
    RESOLVED: Incident.resolved_at,
    RESOLUTION_TIME: Incident.resolved_at,
    CLOSED: Incident.closed_at,
    TO_REGISTER: Incident.registered_at,
    TO_REGISTER_SECONDS: Incident.registered_at,
    TO_FIRST_STEP: Incident.registered_at,
}
_EVENT_KIND = {CHANGE_WAITED: CHANGE_WAIT, BREACHED: BREACH}  # the roll-up event the metric's facts fall on


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


Request = tuple[str, tuple[str, ...], Per, bool, bool]  # `counted_of`'s metric, dims, per, histogram, level
_READ = "report_counted"  # in a session's `info`: (filter, request) → what `read_together` read for it


def counted_of(session: Session, flt: ReportFilter, request: Request) -> dict[tuple, list[int]]:
    """The facts of the request's metric in the period (of the filter's type and, when its `level`, current
    level), added up per its dims (of "type", "level", "grp", "person"), then per local day or month (`per`:
    its first day) and per histogram bar (`histogram`: the key's last element is the bar, `TOTAL` for the
    totals) → [n, timely, us, us2]; keys that count nothing are left out. Read by `read_together` already
    when it was asked for (once)."""
    metric, dims, per, histogram, level = request
    ready = session.info.get(_READ, {}).pop((flt, request), None)
    if ready is not None:
        return ready
    days, ragged = split(flt.start, flt.end)
    found = _read_days(session, flt, days, (request,))[0] if days is not None else {}
    for start, end in ragged:
        for fact in _ragged_facts(session, metric, start, end):
            if flt.type is not None and fact.type != flt.type:
                continue
            if level and flt.level is not None and fact.level != flt.level:
                continue
            head = tuple(getattr(fact, dim) for dim in dims) + _when(per, local_day(fact.at))
            if not histogram:
                _add(found, head, (1, int(fact.timely), fact.us, fact.us2))
                continue
            _add(found, (*head, TOTAL), (1, int(fact.timely), fact.us, fact.us2))
            _add(
                found, (*head, seconds_bucket(fact.us) if metric == TO_REGISTER_SECONDS else centi_hours(fact.us)), (1,)
            )
    return _counting(found)


def read_together(session: Session, flt: ReportFilter, requests: Iterable[Request]) -> None:
    """Read the counters of several `counted_of` calls of a page (`requests`) in one statement, for a period
    of whole local days (the others are read by each call): one round trip and one plan instead of one
    per call."""
    days, ragged = split(flt.start, flt.end)
    requests = tuple(dict.fromkeys(requests))
    if days is None or ragged or not requests:
        return
    kept = session.info.setdefault(_READ, {})
    for request, found in zip(requests, _read_days(session, flt, days, requests), strict=True):
        kept[flt, request] = _counting(found)


def _read_days(
    session: Session, flt: ReportFilter, days: tuple[date, date], requests: tuple[Request, ...]
) -> list[dict[tuple, list[int]]]:
    """What the counters of the whole days hold for each of `requests`, in one statement (`_together`)."""
    months = tuple(table for table, _first, _last in _parts(*days, by_month=True))
    statement = _together(requests, flt.type is not None, flt.level is not None, months)
    params: dict[str, Any] = {"type": flt.type, "level": flt.level}
    for by_month in (True, False):
        for index, (_table, first, last) in enumerate(_parts(*days, by_month=by_month)):
            params[_bound(by_month, index, "first")], params[_bound(by_month, index, "last")] = first, last
    rows: list[list[tuple]] = [[] for _ in requests]
    for number, *values in session.execute(statement, params):
        rows[number].append(values)
    found: list[dict[tuple, list[int]]] = [{} for _ in requests]
    for number, request in enumerate(requests):
        _metric, dims, per, histogram, _level = request
        picked = [DIMENSIONS.index(dim) for dim in dims] + ([4] if per else []) + ([5] if histogram else [])
        _add_rows(found[number], request, ([row[i] for i in picked] + row[6:] for row in rows[number]))
    return found


@functools.lru_cache(maxsize=128)
def _together(requests: tuple[Request, ...], by_type: bool, by_level: bool, months: tuple[type, ...]) -> CompoundSelect:
    """The statement of `requests` for its shape — the requests, which filters apply, the counters tables
    the period's whole months are read from — with the dates and filters bound (building it took a third
    of the counters' CPU on every report page). Each request's rows are its own parts (`_selects`), with
    every dimension in its own column (NULL where the request does not group by it)."""
    parts = []
    for number, request in enumerate(requests):
        _metric, dims, per, histogram, _level = request
        for part in _selects(request, by_type, by_level, months if per != "day" else (ReportDayCount,)):
            values = list(part.selected_columns)
            named = dict(zip(dims, values, strict=False))
            rest = values[len(dims) :]
            on = [rest.pop(0)] if per else [_none(ReportDayCount.day)]
            bar = [rest.pop(0)] if histogram else [_none(ReportDayCount.bucket)]
            dim_columns = (named.get(dim, _none(getattr(ReportDayCount, dim))) for dim in DIMENSIONS)
            columns = [literal(number), *dim_columns, *on, *bar, *rest]
            parts.append(part.with_only_columns(*columns, maintain_column_froms=True))
    return union_all(*parts)


def _bound(by_month: bool, index: int, end: str) -> str:
    return f"{'month' if by_month else 'day'}{index}_{end}"


def _none(column: Any) -> Any:
    """NULL of the column's type: PostgreSQL types a UNION's columns from its first parts."""
    return cast(null(), column.type)


def _selects(request: Request, by_type: bool, by_level: bool, tables: tuple[type, ...]) -> list[Select]:
    """The statements of a request's whole days: one per counters table part (`_parts`, of `tables`), each
    grouped per its dims, then its day or month (`per`), then its bar (`histogram`), with the sums; the
    part's dates bound by `_bound`'s names, the type and level filters (`by_type`, `by_level`) as "type"
    and "level"."""
    metric, dims, per, histogram, level = request
    parts = []
    for index, table in enumerate(tables):
        on = table.day if table is ReportDayCount else table.month
        columns = [getattr(table, dim) for dim in dims] + ([on] if per else [])
        if histogram:
            columns.append(table.bucket)
        first = bindparam(_bound(per != "day", index, "first"), type_=on.type)
        last = bindparam(_bound(per != "day", index, "last"), type_=on.type)
        criteria = [table.metric == metric, on >= first, on < last]
        if not histogram:
            criteria.append(table.bucket == TOTAL)
        if by_type:
            criteria.append(table.type == bindparam("type"))
        if level and by_level:
            criteria.append(table.level == bindparam("level"))
        sums = [func.sum(getattr(table, name)) for name in VALUE_COLUMNS]
        parts.append(select(*columns, *sums).where(*criteria).group_by(*columns))
    return parts


def _when(per: Per, day: date) -> tuple:
    return {None: (), "day": (day,), "month": (month_of(day),)}[per]


def _add(found: dict[tuple, list[int]], key: tuple, values: Iterable[int]) -> None:
    total = found.setdefault(key, [0, 0, 0, 0])
    for i, value in enumerate(values):
        total[i] += int(value or 0)  # PostgreSQL sums bigints as numeric


def _add_rows(found: dict[tuple, list[int]], request: Request, rows: Iterable) -> None:
    """Rows of `_selects` (dims, day or month, bar, sums) added into `found` under their keys."""
    _metric, dims, per, histogram, _level = request
    width = len(dims) + (1 if per else 0) + (1 if histogram else 0)
    for row in rows:
        head = tuple(row[: len(dims)]) + (_when(per, row[len(dims)]) if per else ())
        _add(found, head + tuple(row[len(head) : width]), row[width:])


def _counting(found: dict[tuple, list[int]]) -> dict[tuple, list[int]]:
    return {key: values for key, values in found.items() if values[0]}  # counters taken back to 0 count nothing


def _parts(first: date, last: date, *, by_month: bool) -> list[tuple[type, date, date]]:
    """The whole local days [first, last) as the counters that hold them: the whole months in it from the
    month counters (unless each day is wanted), the days before and after them from the day counters."""
    start = month_of(first) if first.day == 1 else month_of(month_of(first) + timedelta(days=31))
    end = month_of(last)
    if not by_month or start >= end:
        return [(ReportDayCount, first, last)]
    parts = [(ReportDayCount, first, start)] if first < start else []
    parts.append((ReportMonthCount, start, end))
    return parts + ([(ReportDayCount, end, last)] if end < last else [])


def _ragged_facts(session: Session, metric: str, start: datetime, end: datetime):
    """The facts of `metric` whose instant is in [start, end) (a part of one day)."""
    if metric == TASK:
        ids_query = select(ReportTaskSpan.incident_id).where(
            ReportTaskSpan.completed_at >= start, ReportTaskSpan.completed_at < end
        )
    elif metric in _EVENT_KIND:
        ids_query = select(ReportEvent.incident_id).where(
            ReportEvent.kind == _EVENT_KIND[metric], ReportEvent.at >= start, ReportEvent.at < end
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
    """`counted_of` rows (without bars) added up per `key(dims)`; rows whose key is None are left out."""
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
    """`counted_of` rows of a histogram request per `key(dims)` (the dims without the bar): (count, sum in
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


__all__ = ["DURATIONS", "counted_of", "histograms", "read_together", "split", "totals"]
