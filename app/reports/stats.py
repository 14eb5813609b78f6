"""Durations summarized by the database: count, mean, nearest-rank median and p90, maximum per key.

Nearest rank (docs/reports.md): of n values in ascending order, the p-th percentile is the value at
rank ⌈p/100 · n⌉, so every figure is the time of a real incident. The database numbers the values
of each key in order (a window function, on SQLite as on PostgreSQL) and hands back only the values
at those ranks: one row per key, whatever the number of incidents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select, tuple_
from sqlalchemy.orm import Session

PERCENTILES = (50, 90)


@dataclass(frozen=True)
class DurationRow:
    key: str
    count: int
    mean_hours: float | None  # None when count == 0
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None


def seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    """end − start in seconds, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _at_rank(rank: Any, count: Any, percent: int) -> ColumnElement[bool]:
    """rank = ⌈percent/100 · count⌉, in integers: (rank − 1)·100 < percent·count ≤ rank·100."""
    return ((rank - 1) * 100 < count * percent) & (count * percent <= rank * 100)


def duration_stats(session: Session, values: Select, order: Sequence[str] = ()) -> list[DurationRow]:
    """`values` selects (key, seconds) per incident → one row per key, in hours rounded to 0.01 h: keys
    in `order` first (also when empty), then the others alphabetically."""
    source = values.subquery()
    key, seconds = source.c[0], source.c[1]
    ranked = select(
        key.label("key"),
        seconds.label("seconds"),
        func.row_number().over(partition_by=key, order_by=seconds).label("rank"),
        func.count().over(partition_by=key).label("n"),
    ).subquery()
    query = select(
        ranked.c.key,
        func.count(),
        func.sum(ranked.c.seconds),
        *(func.max(case((_at_rank(ranked.c.rank, ranked.c.n, p), ranked.c.seconds))) for p in PERCENTILES),
        func.max(ranked.c.seconds),
    ).group_by(ranked.c.key)
    found = {row[0]: row[1:] for row in session.execute(query)}
    first = list(dict.fromkeys(order))
    rows = []
    for name in first + sorted(set(found) - set(first)):
        if name not in found:
            rows.append(DurationRow(name, 0, None, None, None, None))
            continue
        rows.append(_row(name, *found[name]))
    return rows


def duration_stats_by(
    session: Session, keys: dict[str, ColumnElement[str] | None], seconds: ColumnElement[float], *criteria: Any
) -> dict[str, list[DurationRow]]:
    """Per breakdown (name → key expression, or None for one row over everything, keyed by the
    breakdown's name), `duration_stats` of (key, seconds) over the rows meeting `criteria`, keys
    alphabetically, only keys with values. PostgreSQL computes every breakdown in one scan (grouping
    sets; `percentile_disc` is nearest rank: the first value whose rank reaches p · n); SQLite, one
    query per breakdown."""
    if session.get_bind().dialect.name != "postgresql":
        return {
            name: [row for row in duration_stats(session, select(literal(name) if key is None else key, seconds)
                                                   .where(*criteria)) if row.count]
            for name, key in keys.items()
        }  # fmt: skip
    grouped = [(name, key) for name, key in keys.items() if key is not None]
    sets = [tuple_(key) for _, key in grouped] + ([tuple_()] if len(grouped) < len(keys) else [])
    query = select(
        *(func.grouping(key) for _, key in grouped),
        *(key for _, key in grouped),
        func.count(),
        func.sum(seconds),
        *(func.percentile_disc(p / 100).within_group(seconds) for p in PERCENTILES),
        func.max(seconds),
    ).where(*criteria).group_by(func.grouping_sets(*sets))
    overall = next((name for name, key in keys.items() if key is None), None)
    found: dict[str, dict[str, tuple]] = {name: {} for name in keys}
    width = len(grouped)
    for row in session.execute(query):
        figures = tuple(row[2 * width :])
        if not figures[0]:
            continue  # the empty grouping set over no rows
        by = [i for i in range(width) if row[i] == 0]  # the one key this row is grouped by, if any
        if by:
            found[grouped[by[0]][0]][row[width + by[0]]] = figures
        else:
            found[overall][overall] = figures
    return {name: [_row(key, *rows[key]) for key in sorted(rows)] for name, rows in found.items()}


def _row(key: str, count: int, total: float, median: float, p90: float, longest: float) -> DurationRow:
    return DurationRow(key, count, _hours(total / count), _hours(median), _hours(p90), _hours(longest))


def _hours(seconds: float) -> float:
    return round(float(seconds) / 3600, 2)
