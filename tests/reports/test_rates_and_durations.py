"""Timely resolution rate and resolution-time figures over plain rows (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.reports.resolution_time import DurationRow
from app.reports.timeliness import RateRow, rate, rate_rows
from tests.reports.reference import (
    count_outcomes,
    duration_row,
    duration_rows,
    hours_between,
    nearest_rank,
    rates_by_period,
)

T = datetime(2026, 3, 2, 1, tzinfo=UTC)


def test_no_resolved_incidents_means_no_rate():
    assert rate(0, 0) is None
    assert rate_rows([]) == []
    assert rate_rows([], ["fault"]) == [RateRow("fault", 0, 0, None)]
    assert rates_by_period([], T, T + timedelta(days=2), "day") == [
        RateRow("2026-03-02", 0, 0, None),
        RateRow("2026-03-03", 0, 0, None),
        RateRow("2026-03-04", 0, 0, None),
    ]


def test_rates_add_up_repeated_keys_in_canonical_order():
    counts = [("minor", 2, 1), ("black", 1, 1), ("minor", 1, 0), ("custom", 3, 3)]
    assert rate_rows(counts, ["black", "minor"]) == [
        RateRow("black", 1, 1, 1.0),
        RateRow("minor", 3, 1, 1 / 3),
        RateRow("custom", 3, 3, 1.0),
    ]
    assert count_outcomes([("a", True), ("b", False), ("a", False)]) == [("a", 2, 1), ("b", 1, 0)]


def test_rates_by_period_across_a_shanghai_midnight():
    before_midnight = datetime(2026, 3, 2, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    after_midnight = datetime(2026, 3, 2, 16, 1, tzinfo=UTC)  # 00:01 on 03-03
    outside = T + timedelta(days=5)
    resolutions = [(before_midnight, True), (after_midnight, False), (after_midnight, True), (outside, True)]
    assert rates_by_period(resolutions, T, T + timedelta(days=1), "day") == [
        RateRow("2026-03-02", 1, 1, 1.0),
        RateRow("2026-03-03", 2, 1, 0.5),
    ]
    assert rates_by_period(resolutions, T, T + timedelta(days=1), "day", UTC) == [
        RateRow("2026-03-02", 3, 2, 2 / 3),
        RateRow("2026-03-03", 0, 0, None),  # the period ends at 01:00 UTC on 03-03
    ]


def test_nearest_rank_percentiles():
    assert nearest_rank([7.0], 50) == 7.0
    assert nearest_rank([7.0], 90) == 7.0
    values = [float(n) for n in range(1, 11)]
    assert nearest_rank(values, 90) == 9.0  # rank ceil(9.0) = 9
    assert nearest_rank(values, 91) == 10.0  # rank ceil(9.1) = 10
    assert nearest_rank(values, 50) == 5.0
    assert nearest_rank([1.0, 2.0, 3.0, 4.0], 50) == 2.0  # the lower middle value
    assert nearest_rank([1.0, 2.0, 3.0], 50) == 2.0
    assert nearest_rank(values, 100) == 10.0
    with pytest.raises(ValueError):
        nearest_rank([], 50)
    with pytest.raises(ValueError):
        nearest_rank(values, 0)


def test_duration_figures():
    assert duration_row("x", []) == DurationRow("x", 0, None, None, None, None)
    assert duration_row("x", [5.0]) == DurationRow("x", 1, 5.0, 5.0, 5.0, 5.0)
    assert duration_row("x", [30.0, 3.0]) == DurationRow("x", 2, 16.5, 3.0, 30.0, 30.0)
    assert duration_row("x", [1.0, 1.0, 2.0 / 3.0]) == DurationRow("x", 3, 0.89, 1.0, 1.0, 1.0)  # rounded to 0.01 h
    assert hours_between(T, T + timedelta(minutes=90)) == 1.5
    assert duration_rows([("b", 1.0), ("a", 2.0), ("b", 3.0)], ["b"]) == [
        DurationRow("b", 2, 2.0, 1.0, 3.0, 3.0),
        DurationRow("a", 1, 2.0, 2.0, 2.0, 2.0),
    ]
