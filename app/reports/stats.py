"""Durations summarized by the database: count, mean, nearest-rank median and p90, maximum per key.

Nearest rank (docs/reports.md): of n values in ascending order, the p-th percentile is the value at
rank ⌈p/100 · n⌉, so every figure is the time of a real incident. The database numbers the values
of each key in order (a window function, on SQLite as on PostgreSQL) and hands back only the values
at those ranks: one row per key, whatever the number of incidents (used for the few rows of the
waits for a change). The period reports read their durations from the per-day counters'
histograms instead (`histogram_row`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
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


def _row(key: str, count: int, total: float, median: float, p90: float, longest: float) -> DurationRow:
    return DurationRow(key, count, _hours(total / count), _hours(median), _hours(p90), _hours(longest))


def _hours(seconds: float) -> float:
    return round(float(seconds) / 3600, 2)


def histogram_row(key: str, count: int, microseconds: int, bars: dict[int, int]) -> DurationRow:
    """A key's figures from its counters (`app.reports.counted.histograms`): the mean from the exact
    sum, the nearest-rank median and p90 and the maximum from the histogram of values rounded to
    0.01 h — the same as rounding the exact nearest-rank values, since rounding keeps the order."""
    if count == 0:
        return DurationRow(key, 0, None, None, None, None)
    ranks = {p: (p * count + 99) // 100 for p in PERCENTILES}  # ⌈p/100 · n⌉
    found: dict[int, float] = {}
    seen = 0
    for bar in sorted(bars):
        seen += bars[bar]
        for p, rank in ranks.items():
            if p not in found and seen >= rank:
                found[p] = bar / 100
    longest = max(bars) / 100
    return DurationRow(key, count, _hours(microseconds / 1e6 / count), found[50], found[90], longest)
