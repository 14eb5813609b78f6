"""Times are stored in UTC and shown in the configured zone (Asia/Shanghai by default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from app.forms import FIRST_DAY, LAST_DAY
from app.models import utcnow
from app.web.i18n import gettext as _


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M", tz: tzinfo | None = None) -> str:
    """A moment in the configured zone (`tz`: that zone, looked up once by a caller formatting many)."""
    if moment is None:
        return ""
    return moment.astimezone(tz or zone()).strftime(pattern)


def parse_local(text: str) -> datetime:
    """A browser's datetime-local value (no zone) read in the configured zone; ValueError for one that
    is not a date and time, or lies outside FIRST_DAY … LAST_DAY."""
    moment = datetime.fromisoformat(text)
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise ValueError(f"{text} is outside {FIRST_DAY} … {LAST_DAY}")
    return moment.replace(tzinfo=zone()) if moment.tzinfo is None else moment


def duration(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)sd %(hours)sh", days=days, hours=hours)
    if hours:
        return _("%(hours)sh %(minutes)sm", hours=hours, minutes=minutes)
    if minutes:
        return _("%(minutes)sm", minutes=minutes)
    return _("less than a minute")


@dataclass(frozen=True)
class TimeLeft:
    text: str
    state: str  # "on_track", "warning", "breached", "none"


def time_left(due: datetime | None, warn: datetime | None = None, now: datetime | None = None) -> TimeLeft:
    """Plain words for the time left before a deadline, and its colour state."""
    if due is None:
        return TimeLeft("—", "none")
    now = now or utcnow()
    if now >= due:
        return TimeLeft(_("%(duration)s overdue", duration=duration(now - due)), "breached")
    state = "warning" if warn is not None and now >= warn else "on_track"
    return TimeLeft(_("%(duration)s left", duration=duration(due - now)), state)


def task_time_left(start: datetime, due: datetime) -> TimeLeft:
    """A task's own time limit, amber once WARNING_RATIO of it has passed, as incident deadlines are."""
    return time_left(due, start + (due - start) * float(current_app.config["WARNING_RATIO"]))


def registration_left(incident: Any) -> TimeLeft:
    """The wait of an incident raised in the portal against the service desk's registration target."""
    target = timedelta(minutes=float(current_app.config["REGISTRATION_TARGET_MINUTES"]))
    return task_time_left(incident.created_at, incident.created_at + target)


def init(app: Flask) -> None:
    app.jinja_env.filters["local"] = local
    app.jinja_env.globals.update(
        time_left=time_left, task_time_left=task_time_left, registration_left=registration_left
    )
