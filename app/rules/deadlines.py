"""Times that follow from a classification: the deadline runs from when the incident was raised
(spec §4.3, revised 2026-11-30), the notification window from when it is owed (§4.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from app.rules.classify import Classification
from app.rules.escalation import NOTIFICATION_REQUIRED_FROM

WARNING_RATIO = 0.8  # warn the incident manager when 80 % of the deadline has passed
NOTIFICATION_WINDOW_MINUTES = 30  # fault notification (故障通报) due this long after registration
REGISTRATION_TARGET_MINUTES = 15  # the service desk registers a raised incident within this (spec §4.3)
CONFIRMATION_WORKING_DAYS = 3  # the requester confirms a resolution within this, else the desk follows up
WEEKEND = (5, 6)  # Saturday, Sunday (public holidays are not known to the system)


def add_working_days(start: datetime, days: int, zone: tzinfo) -> datetime:
    """`days` working days after `start`: the same local time on the `days`-th Monday–Friday after it
    (from a weekend, the count starts on Monday). In UTC."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    local = start.astimezone(zone).replace(tzinfo=None)
    moment = local
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() not in WEEKEND:
            days -= 1
    return moment.replace(tzinfo=zone).astimezone(UTC)


def deadline_times(
    classification: Classification,
    raised_at: datetime,
    *,
    notify_from: datetime | None = None,
    warning_ratio: float = WARNING_RATIO,
    notification_window_minutes: float = NOTIFICATION_WINDOW_MINUTES,
) -> dict[str, datetime | None]:
    """{"due_at", "warn_at", "notify_by"} in UTC; notify_by is None below yellow (no notification duty).

    `raised_at`: when the incident was raised — the requester's portal submission, or the
    registration when the desk or first line raises it (also after the fact, 补单). `notify_from`:
    when the notification became owed (the classification that says yellow), `raised_at` if not given.
    """
    for name, moment in (("raised_at", raised_at), ("notify_from", notify_from or raised_at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if not 0 < warning_ratio < 1:
        raise ValueError(f"warning_ratio must be between 0 and 1, got {warning_ratio}")
    start = raised_at.astimezone(UTC)
    owed_from = (notify_from or raised_at).astimezone(UTC)
    deadline = timedelta(hours=classification.deadline_hours)
    level = classification.level
    must_notify = level is not None and level >= NOTIFICATION_REQUIRED_FROM
    return {
        "due_at": start + deadline,
        "warn_at": start + deadline * warning_ratio,
        "notify_by": owed_from + timedelta(minutes=notification_window_minutes) if must_notify else None,
    }
