"""Durations summarized: count, mean, nearest-rank median and p90, maximum per key.

Nearest rank (docs/reports.md): of n values in ascending order, the p-th percentile is the value at
rank ⌈p/100 · n⌉, so every figure is the time of a real incident. The period reports read their
durations from the counters' histograms (`histogram_row`).
"""

from __future__ import annotations

from dataclasses import dataclass

PERCENTILES = (50, 90)


@dataclass(frozen=True)
class DurationRow:
    key: str
    count: int
    mean_hours: float | None  # None when count == 0
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None


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
