"""What a report is about (period, type, level, support group), and periods in local time.

Periods are half-open: an instant belongs to [start, end) when start <= instant < end, in UTC.
Calendar buckets (day, ISO week, month) are cut in a local time zone, Asia/Shanghai by default,
so a day is the day the team lives (00:00–24:00 Beijing time), not the UTC day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal, select

from app.engine.lanes import SECOND_LINE_GROUPS
from app.links.models import not_child
from app.models import Incident
from app.rules.facts import IncidentType
from app.rules.levels import Level

SHANGHAI = ZoneInfo("Asia/Shanghai")
Period = Literal["day", "week", "month"]
PERIODS: tuple[str, ...] = ("day", "week", "month")

NONE = "none"  # the key of "not set": an unlevelled incident, an incident not yet classified

# Support groups: the handling stage, and for second line the group (`dispatch["stage"]`/`["group"]`).
REGISTRATION = "registration"  # solved on the spot at registration / not yet registered
SUPPORT_GROUPS: tuple[str, ...] = (
    REGISTRATION,
    "initial_support",
    "first_line",
    *(f"second_line:{group}" for group in SECOND_LINE_GROUPS),
    "incident_manager",
)
# A filter may also name "second_line": all three second-line groups.
FILTER_GROUPS: tuple[str, ...] = (*SUPPORT_GROUPS, "second_line")
# The app roles whose people work each support group's tasks (workload reports group people by role).
GROUP_ROLES: dict[str, tuple[str, ...]] = {
    REGISTRATION: ("service_desk",),
    "initial_support": ("service_desk",),
    "first_line": ("first_line",),
    **{f"second_line:{group}": (role,) for group, role in SECOND_LINE_GROUPS.items()},
    "second_line": tuple(SECOND_LINE_GROUPS.values()),
    "incident_manager": ("incident_manager",),
}
LEVEL_ORDER: tuple[str, ...] = (*(level.value for level in reversed(Level)), NONE)  # black first
TYPE_ORDER: tuple[str, ...] = (*(kind.value for kind in IncidentType), NONE)


@dataclass(frozen=True)
class ReportFilter:
    """The incidents a report covers. `type`/`level`/`group` None means all; level "none" = unlevelled.

    `group` is a support-group key (`SUPPORT_GROUPS`, e.g. "second_line:development"); each report
    says which group of an incident it compares it with (docs/reports.md).
    """

    start: datetime
    end: datetime
    type: str | None = None
    level: str | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("report periods need time-zone-aware datetimes")
        if self.end < self.start:
            raise ValueError("a report period cannot end before it starts")
        if self.group is not None and self.group not in FILTER_GROUPS:
            raise ValueError(f"unknown support group {self.group!r}; expected one of {', '.join(FILTER_GROUPS)}")

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def incident_criteria(self, *, level: bool = True) -> list[ColumnElement[bool]]:
        """SQL conditions on the incident's type and (unless `level` is false) current level. A child of
        a major incident is left out: every report counts the major incident once instead."""
        criteria: list[ColumnElement[bool]] = [not_child(Incident.id)]
        if self.type is not None:
            criteria.append(Incident.type == self.type)
        if level and self.level is not None:
            criteria.append(Incident.level.is_(None) if self.level == NONE else Incident.level == self.level)
        return criteria

    def of_incidents(self, incident_id: ColumnElement[int], *, level: bool = True) -> list[ColumnElement[bool]]:
        """`incident_criteria` for rows that carry an incident id (the roll-ups): the incidents table
        is read only when the filter names a type or level."""
        criteria: list[ColumnElement[bool]] = [not_child(incident_id)]
        if self.type is not None or (level and self.level is not None):
            narrowed = self.incident_criteria(level=level)[1:]
            criteria.append(incident_id.in_(select(Incident.id).where(*narrowed)))
        return criteria

    def level_matches(self, level: str | None) -> bool:
        return self.level is None or key_or_none(level) == self.level

    def group_matches(self, key: str | None) -> bool:
        """Whether a support-group key is the filter's group ("second_line" matches its three groups)."""
        if self.group is None:
            return True
        return key is not None and (key == self.group or key.startswith(self.group + ":"))

    def roles(self) -> tuple[str, ...] | None:
        """The app roles of the filter's group, or None when the filter names no group."""
        return None if self.group is None else GROUP_ROLES[self.group]


# ---------------------------------------------------------------------------------- support groups


def support_group(stage: str | None, group: str | None) -> str | None:
    """The support-group key of a stage (and, for second line, its group); None when there is no stage."""
    if stage is None:
        return None
    if stage == "second_line":
        return f"second_line:{group}" if group else "second_line"
    return stage


def support_group_sql(stage: ColumnElement, group: ColumnElement) -> ColumnElement[str]:
    """`support_group` computed by the database, "none" when there is no stage."""
    second_line = case(
        (func.coalesce(group, "") == "", literal("second_line")), else_=literal("second_line:").concat(group)
    )
    return case((stage == "second_line", second_line), else_=func.coalesce(stage, NONE))


def key_or_none_sql(value: ColumnElement) -> ColumnElement[str]:
    return func.coalesce(value, NONE)


def group_matches_sql(key: ColumnElement, group: str | None) -> list[ColumnElement[bool]]:
    """`ReportFilter.group_matches` on a support-group column ("second_line" matches its three groups)."""
    if group is None:
        return []
    return [(key == group) | key.like(group + ":%")]


def split_group(key: str) -> tuple[str, str | None]:
    """The stage and second-line group of a support-group key."""
    stage, _, group = key.partition(":")
    return stage, group or None


def group_criteria(key: str | None, stage_column, group_column) -> list[ColumnElement[bool]]:
    """SQL conditions selecting one support group from a stage column and a group column."""
    if key is None:
        return []
    stage, group = split_group(key)
    criteria: list[ColumnElement[bool]] = [stage_column == stage]
    if group is not None:
        criteria.append(group_column == group)
    return criteria


def incident_number(incident_id: int) -> str:
    """As `Incident.number`, without loading the incident."""
    return f"INC{incident_id:06d}"


def key_or_none(value: str | None) -> str:
    return NONE if value is None else value


def ordered(keys: Iterable[str], canonical: Sequence[str]) -> list[str]:
    """Keys in the canonical order, unknown keys after them alphabetically."""
    position = {key: index for index, key in enumerate(canonical)}
    return sorted(set(keys), key=lambda key: (position.get(key, len(position)), key))


# ---------------------------------------------------------------------------------- periods


def bucket_key(moment: datetime, period: Period = "day", tz: tzinfo = SHANGHAI) -> str:
    """The bucket of an instant: "2026-03-02" (day), "2026-W10" (ISO week), "2026-03" (month), in `tz`."""
    if moment.tzinfo is None:
        raise ValueError("bucket_key needs a time-zone-aware datetime")
    return _day_key(moment.astimezone(tz).date(), period)


def _day_key(day: date, period: Period) -> str:
    """The bucket of any instant of the local day `day`."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")


def bucket_keys(start: datetime, end: datetime, period: Period = "day", tz: tzinfo = SHANGHAI) -> list[str]:
    """Every bucket the half-open period [start, end) touches, in order (none for an empty period)."""
    return [key for key, _ in bucket_ends(start, end, period, tz)]


def bucket_ends(
    start: datetime, end: datetime, period: Period = "day", tz: tzinfo = SHANGHAI
) -> list[tuple[str, datetime]]:
    """Every bucket the half-open period [start, end) touches, in order, with where each ends inside it:
    (key, the next local midnight that starts another bucket, or `end`) — so that the database can put
    an instant in its bucket."""
    if end <= start:
        return []
    day = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    ends: list[tuple[str, datetime]] = []
    key = _day_key(day, period)
    while day < last:  # one key per local day, compared as dates: no instant is converted but at a change
        day += timedelta(days=1)
        following = _day_key(day, period)
        if following != key:
            ends.append((key, datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)))
            key = following
    return [*ends, (key, end)]


ALL = "all"  # the key of the row over everything
Dimension = Literal["all", "type", "level", "group"]  # how a rate or duration report is broken down
