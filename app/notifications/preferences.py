"""Which channels reach a person for each kind of notification: their own choice, or their roles'
defaults; and their quiet hours. In the app is always on (it is the record of what they were told).

Tables, not code: a new kind or a changed default is a line here (docs/notifications.md lists them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.messages import N_

EMAIL, SMS, WECOM, DINGTALK = "email", "sms", "wecom", "dingtalk"
EXTERNAL = (EMAIL, SMS, WECOM, DINGTALK)  # also the order of fallback when a channel fails

# Every kind a person may set, with its name on the preferences page.
KINDS: Mapping[str, str] = {
    "task_arrived": N_("A task arrives in my group's queue"),
    "task_assigned": N_("A task is assigned to me"),
    "mention": N_("I am mentioned in a note"),
    "deadline_warning": N_("Deadline warning"),
    "deadline_breach": N_("Deadline breached"),
    "emergency": N_("An incident becomes an emergency"),
    "escalated": N_("An incident's level is raised"),
    "announcement": N_("Announcements of an emergency"),
    "leadership_report": N_("An incident is reported to leadership"),
    "fault_notice": N_("Fault notifications (故障通报)"),
    "registered": N_("My incident is registered"),
    "resolved": N_("My incident is resolved: please confirm"),
    "closed": N_("My incident is closed"),
}
WEBHOOK_KINDS = frozenset(KINDS) - {"task_arrived", "task_assigned", "mention"}  # incident events, not work items
# Quiet hours never hold these back: emergencies and breaches (the issue), and the two that exist because
# time matters (a fault notice has its window, rule E1; a report to leadership follows a deadline).
URGENT = frozenset({"emergency", "deadline_breach", "fault_notice", "leadership_report"})
INAPP_ONLY = frozenset({"delivery_failed"})  # a failure notice never goes out on a channel that may fail

HANDLERS = ("service_desk", "first_line", "second_line_dev", "second_line_test", "second_line_is")
_HANDLER_DEFAULTS = {
    "task_arrived": (EMAIL,),
    "task_assigned": (EMAIL, WECOM, DINGTALK),
    "mention": (EMAIL, WECOM, DINGTALK),
    "deadline_warning": (EMAIL,),
    "deadline_breach": (EMAIL, SMS),
    "escalated": (EMAIL,),
}
ROLE_DEFAULTS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    **dict.fromkeys(HANDLERS, _HANDLER_DEFAULTS),
    "incident_manager": {
        **_HANDLER_DEFAULTS,
        "deadline_warning": (EMAIL, WECOM, DINGTALK),
        "emergency": (EMAIL, SMS, WECOM, DINGTALK),
        "escalated": (EMAIL, WECOM, DINGTALK),
        "announcement": (EMAIL,),
    },
    "leadership": {
        "emergency": (EMAIL, SMS),
        "escalated": (EMAIL,),
        "announcement": (EMAIL,),
        "leadership_report": (EMAIL, SMS),
    },
    "requester": {"registered": (EMAIL,), "resolved": (EMAIL, SMS), "closed": (EMAIL,)},
}
ANYONE = (EMAIL,)
# A role's name in a fault notice's recipients reaches every member (the notice's prefill names two).
ROLE_NAMES: Mapping[str, str] = {
    "事件经理": "incident_manager",
    "高层领导": "leadership",
    "领导": "leadership",
    "服务台": "service_desk",
    "一线": "first_line",
    "二线开发": "second_line_dev",
    "二线测试": "second_line_test",
    "二线信息系统": "second_line_is",
}  # a kind none of a person's roles mentions (a fault notice to a listed colleague)


def defaults(roles: Iterable[str], kind: str) -> tuple[str, ...]:
    chosen = {channel for role in roles for channel in ROLE_DEFAULTS.get(role, {}).get(kind, ())}
    if not any(kind in ROLE_DEFAULTS.get(role, {}) for role in roles):
        chosen = set(ANYONE)
    return tuple(channel for channel in EXTERNAL if channel in chosen)


def kinds_for(roles: Iterable[str]) -> list[str]:
    """The kinds a person's page offers: those their roles may receive, in the table's order."""
    mine = {kind for role in roles for kind in ROLE_DEFAULTS.get(role, {})}
    return [kind for kind in KINDS if kind in mine or kind in ("mention", "fault_notice")]


def channels(kind: str, roles: Iterable[str], chosen: str | None) -> tuple[str, ...]:
    """The external channels for `kind`: the person's choice (a stored row), else their roles' defaults."""
    if kind in INAPP_ONLY:
        return ()
    if chosen is not None:
        picked = set(chosen.split(","))
        return tuple(channel for channel in EXTERNAL if channel in picked)
    return defaults(roles, kind)


# ---------------------------------------------------------------- quiet hours

HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def quiet_until(starts: str, ends: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When quiet hours `starts`–`ends` (local times) end, if `now` is within them; else None."""
    local = now.astimezone(zone)
    start, end = time.fromisoformat(starts), time.fromisoformat(ends)
    if start == end:
        return None
    clock = local.time().replace(second=0, microsecond=0)
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(now.tzinfo)
