"""Report filters and calendar buckets in Shanghai time (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.models import Incident
from app.reports.filters import (
    ReportFilter,
    bucket_key,
    bucket_keys,
    group_criteria,
    ordered,
    split_group,
    support_group,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_day_is_cut_at_shanghai_midnight():
    assert bucket_key(utc(2026, 3, 2, 15, 59, 59)) == "2026-03-02"  # 23:59:59 in Shanghai
    assert bucket_key(utc(2026, 3, 2, 16, 0, 0)) == "2026-03-03"  # 00:00 in Shanghai
    assert bucket_key(utc(2026, 3, 2, 16, 0, 0), tz=UTC) == "2026-03-02"
    assert bucket_key(utc(2026, 3, 2, 16, 0, 0), tz=ZoneInfo("Europe/London")) == "2026-03-02"


def test_weeks_are_iso_weeks_and_months_calendar_months_in_local_time():
    assert bucket_key(utc(2026, 3, 8, 15, 59), "week") == "2026-W10"  # Sunday 23:59 in Shanghai
    assert bucket_key(utc(2026, 3, 8, 16, 0), "week") == "2026-W11"  # Monday 00:00
    assert bucket_key(utc(2026, 12, 31, 16, 0), "week") == "2026-W53"  # Friday 2027-01-01 is in ISO 2026-W53
    assert bucket_key(utc(2026, 3, 31, 15, 59), "month") == "2026-03"
    assert bucket_key(utc(2026, 3, 31, 16, 0), "month") == "2026-04"


def test_bucket_keys_cover_the_half_open_period():
    start = utc(2026, 3, 2, 1)  # 09:00 on 03-02 in Shanghai
    assert bucket_keys(start, start + timedelta(hours=48)) == ["2026-03-02", "2026-03-03", "2026-03-04"]
    midnight = utc(2026, 3, 2, 16)  # 00:00 on 03-03
    assert bucket_keys(utc(2026, 3, 1, 16), midnight) == ["2026-03-02"]  # the end is excluded
    assert bucket_keys(utc(2026, 3, 1, 16), midnight + timedelta(microseconds=1)) == ["2026-03-02", "2026-03-03"]
    assert bucket_keys(utc(2026, 1, 1), utc(2026, 4, 1), "month") == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert bucket_keys(utc(2026, 3, 2, 1), utc(2026, 3, 16, 1), "week") == ["2026-W10", "2026-W11", "2026-W12"]
    assert bucket_keys(start, start) == []


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        bucket_key(datetime(2026, 3, 2))
    with pytest.raises(ValueError):
        bucket_key(utc(2026, 3, 2), "year")
    with pytest.raises(ValueError):
        ReportFilter(datetime(2026, 3, 2), utc(2026, 3, 3))
    with pytest.raises(ValueError):
        ReportFilter(utc(2026, 3, 3), utc(2026, 3, 2))
    with pytest.raises(ValueError):
        ReportFilter(utc(2026, 3, 2), utc(2026, 3, 3), group="second_line:network")


def test_support_groups():
    assert support_group("second_line", "development") == "second_line:development"
    assert support_group("first_line", None) == "first_line"
    assert support_group(None, None) is None
    assert split_group("second_line:test") == ("second_line", "test")
    assert split_group("incident_manager") == ("incident_manager", None)
    flt = ReportFilter(utc(2026, 3, 2), utc(2026, 3, 3), group="second_line")
    assert flt.group_matches("second_line:test") and not flt.group_matches("first_line")
    assert not flt.group_matches(None)
    assert flt.roles() == ("second_line_dev", "second_line_test", "second_line_is")
    assert ReportFilter(utc(2026, 3, 2), utc(2026, 3, 3)).roles() is None
    condition = group_criteria("second_line:test", Incident.resolved_stage, Incident.current_group)
    assert [str(part) for part in condition] == [
        "incidents.resolved_stage = :resolved_stage_1",
        "incidents.current_group = :current_group_1",
    ]
    assert group_criteria(None, Incident.resolved_stage, Incident.current_group) == []


def test_filter_period_and_level():
    flt = ReportFilter(utc(2026, 3, 2), utc(2026, 3, 3), level="none")
    assert flt.contains(utc(2026, 3, 2)) and not flt.contains(utc(2026, 3, 3))
    assert flt.level_matches(None) and not flt.level_matches("minor")
    children, *level = [str(part) for part in flt.incident_criteria()]
    assert level == ["incidents.level IS NULL"]
    assert children.startswith("(incidents.id NOT IN") and "incident_links" in children  # a major incident counts once
    assert len(flt.incident_criteria(level=False)) == 1


def test_ordered_puts_known_keys_first():
    assert ordered(["zeta", "none", "red", "black", "alpha"], ("black", "red", "none")) == [
        "black",
        "red",
        "none",
        "alpha",
        "zeta",
    ]
