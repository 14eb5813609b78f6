"""Timestamps derived from a classification: due, warn, notify-by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.rules import (
    NOTIFICATION_WINDOW_MINUTES,
    WARNING_RATIO,
    add_working_days,
    classify,
    deadline_times,
    parse_facts,
)

REGISTERED = datetime(2024, 10, 30, 8, 0, tzinfo=UTC)


def times(facts: dict, registered_at: datetime = REGISTERED, **options):
    return deadline_times(classify(parse_facts(facts)), registered_at, **options)


def test_defaults():
    assert (WARNING_RATIO, NOTIFICATION_WINDOW_MINUTES) == (0.8, 30)


@pytest.mark.parametrize(
    ("facts", "due", "warn", "notify"),
    [
        ({"type": "fault", "complaints": 500}, "2024-10-30T20:00", "2024-10-30T17:36", "2024-10-30T08:30"),
        ({"type": "fault", "complaints": 100}, "2024-10-30T20:00", "2024-10-30T17:36", "2024-10-30T08:30"),
        ({"type": "fault", "complaints": 50}, "2024-10-31T08:00", "2024-10-31T03:12", "2024-10-30T08:30"),
        ({"type": "fault", "complaints": 20}, "2024-10-31T08:00", "2024-10-31T03:12", None),
        ({"type": "fault"}, "2024-10-31T08:00", "2024-10-31T03:12", None),
        ({"type": "complaint", "vp_complaint": True}, "2024-10-30T20:00", "2024-10-30T17:36", None),
        ({"type": "consultation"}, "2024-11-01T08:00", "2024-10-31T22:24", None),
    ],
    ids=[
        "red-12h",
        "orange-12h",
        "yellow-24h",
        "minor-no-notify",
        "unlevelled-no-notify",
        "e5-complaint",
        "consultation-48h",
    ],
)
def test_times(facts, due, warn, notify):
    result = times(facts)
    assert result == {
        "due_at": datetime.fromisoformat(due).replace(tzinfo=UTC),
        "warn_at": datetime.fromisoformat(warn).replace(tzinfo=UTC),
        "notify_by": None if notify is None else datetime.fromisoformat(notify).replace(tzinfo=UTC),
    }


def test_result_is_utc_whatever_the_input_zone():
    beijing = timezone(timedelta(hours=8))
    result = times({"type": "fault", "complaints": 50}, datetime(2024, 10, 30, 16, 0, tzinfo=beijing))
    assert result["due_at"] == datetime(2024, 10, 31, 8, 0, tzinfo=UTC)
    assert result["due_at"].utcoffset() == timedelta(0)
    assert result["notify_by"].tzinfo is UTC


def test_options():
    result = times({"type": "fault", "complaints": 100}, warning_ratio=0.5, notification_window_minutes=15)
    assert result["warn_at"] == datetime(2024, 10, 30, 14, 0, tzinfo=UTC)
    assert result["notify_by"] == datetime(2024, 10, 30, 8, 15, tzinfo=UTC)


def test_naive_registration_time_is_refused():
    with pytest.raises(ValueError, match="^raised_at must be timezone-aware$"):
        times({"type": "fault"}, datetime(2024, 10, 30, 8, 0))


@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.2])
def test_warning_ratio_must_be_a_fraction(ratio):
    with pytest.raises(ValueError, match="^warning_ratio must be between 0 and 1"):
        times({"type": "fault"}, warning_ratio=ratio)


def test_the_deadline_runs_from_when_raised_and_the_notification_window_from_when_owed():
    raised = REGISTERED - timedelta(minutes=40)  # submitted in the portal, registered 40 minutes later
    result = deadline_times(classify(parse_facts({"type": "fault", "complaints": 60})), raised, notify_from=REGISTERED)
    assert result["due_at"] == raised + timedelta(hours=24)
    assert result["warn_at"] == raised + timedelta(hours=24) * 0.8
    assert result["notify_by"] == REGISTERED + timedelta(minutes=30)  # owed once it was known to be yellow


def test_notify_from_must_be_timezone_aware():
    with pytest.raises(ValueError, match="^notify_from must be timezone-aware$"):
        times({"type": "fault", "complaints": 60}, notify_from=datetime(2026, 3, 2))


SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        ("2026-03-02T10:00", 3, "2026-03-05T10:00"),  # Monday → Thursday
        ("2026-03-06T10:00", 3, "2026-03-11T10:00"),  # Friday → Wednesday (the weekend does not count)
        ("2026-03-07T10:00", 3, "2026-03-11T10:00"),  # Saturday → Wednesday (counted from Monday)
        ("2026-03-08T23:59", 1, "2026-03-09T23:59"),  # Sunday → Monday
        ("2026-03-04T16:00", 0, "2026-03-04T16:00"),
        ("2026-03-06T23:30", 1, "2026-03-09T23:30"),  # late on Friday local time (Friday 15:30 UTC)
    ],
)
def test_add_working_days_counts_monday_to_friday_in_local_time(start, days, end):
    local = datetime.fromisoformat(start).replace(tzinfo=SHANGHAI)
    result = add_working_days(local, days, SHANGHAI)
    assert result.tzinfo is UTC and result == datetime.fromisoformat(end).replace(tzinfo=SHANGHAI)


def test_add_working_days_refuses_a_naive_time_and_negative_days():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2026, 3, 2), 3, SHANGHAI)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(REGISTERED, -1, SHANGHAI)
