"""Notifications a process step sends by its answers: the fault notification (故障通报) to the
recipients written in it, a deadline follow-up "已上报领导" to leadership, and an emergency's
announcements. Also the fault notification's form, prefilled from the incident."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.engine.lanes import INCIDENT_MANAGER
from app.models import Announcement, Incident, User
from app.notifications.outbox import EMAIL, SMS, Outbox, members, person
from app.notifications.preferences import ROLE_NAMES

FAULT_NOTICE = "notify_fault"  # the user task (the contract with the diagram and forms/notify_fault.*)
FOLLOW_UPS = ("follow_up_warning", "follow_up_breach")
REPORTED_TO_LEADERSHIP = "escalated"  # follow_up.action "已上报领导"
FORM_CHANNELS = {"email": EMAIL, "sms": SMS}  # the form's other choices (phone, meeting) are not automated
SEPARATORS = re.compile(r"[,，、;；\s]+")
MOBILE = re.compile(r"^\+?[0-9]{5,15}$")
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LEVELS = {"minor": "轻微", "yellow": "黄色", "orange": "橙色", "red": "红色", "black": "黑色"}


def prefill(spec_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The fault notification's form, written from the incident (the handler edits it before sending)."""
    if spec_id != FAULT_NOTICE:
        return {}
    incident = data.get("incident") or {}
    assessment = data.get("assessment") or {}
    facts = assessment.get("facts") or {}
    scope = [f"{facts['affected_users']} 用户受影响"] if facts.get("affected_users") else []
    if facts.get("core_business_impact") == "yes" or facts.get("core_business_affected"):
        scope.append("核心业务受影响")
    lines = [
        f"【故障通报】{LEVELS.get(assessment.get('level'), '')}故障：{incident.get('title', '')}",
        f"系统：{incident.get('system') or '—'}",
        f"故障现象：{incident.get('description') or '—'}",
        f"影响范围：{'，'.join(scope) or '—'}",
        "预计恢复时间：",  # the handler knows it; the form asks for it (ui:help)
    ]
    content = "\n".join(lines)
    return {"notification": {"channels": ["email"], "recipients": "事件经理、高层领导", "content": content[:4000]}}


def completed(session: Session, outbox: Outbox, incident: Incident, data: Mapping[str, Any], base: dict[str, Any],
              skip: int | None) -> None:  # fmt: skip
    """A step was completed with `data` (the task_completed event)."""
    spec_id, answers = data.get("spec_id"), data.get("data") or {}
    prefix = f"incident:{incident.id}"
    task = data.get("task_id")
    follow_up = answers.get("follow_up") or {}
    if spec_id == FAULT_NOTICE and isinstance(answers.get("notification"), Mapping):
        _fault_notice(session, outbox, incident, f"{prefix}:fault_notice:{task}", answers["notification"], base)
    elif spec_id in FOLLOW_UPS and follow_up.get("action") == REPORTED_TO_LEADERSHIP:
        params = {**base, "note": follow_up.get("note"), "breached": incident.breached}
        leaders = members(session, "leadership")
        outbox.add(f"{prefix}:leadership_report:{task}", "leadership_report", leaders, params, incident_id=incident.id,
                   skip=skip)  # fmt: skip


def announced(session: Session, outbox: Outbox, incident: Incident, text: str, base: dict[str, Any],
              skip: int | None) -> None:  # fmt: skip
    """An emergency's announcement: to incident managers, leadership, the people on its steps and its requester."""
    people = {user.id: user for user in members(session, INCIDENT_MANAGER, "leadership")}
    for user_id in {task.assignee_id for task in incident.open_tasks if task.assignee_id} | {incident.requester_id}:
        if user_id and user_id not in people:
            people[user_id] = person(session, user_id)
    count = session.scalar(select(func.count(Announcement.id)).where(Announcement.incident_id == incident.id))
    outbox.add(f"incident:{incident.id}:announcement:{count}", "announcement", people.values(), {**base, "text": text},
               incident_id=incident.id, skip=skip)  # fmt: skip


def _fault_notice(session: Session, outbox: Outbox, incident: Incident, event: str, notice: Mapping[str, Any],
                  base: dict[str, Any]) -> None:  # fmt: skip
    """To each recipient written in the notice: an account (username, name or a role's name) on its
    chosen channels and in the app; an e-mail address or mobile number directly."""
    channels = {FORM_CHANNELS[choice] for choice in notice.get("channels") or () if choice in FORM_CHANNELS}
    params = {**base, "content": notice.get("content", "")}
    people: dict[int, User] = {}
    for token in filter(None, SEPARATORS.split(notice.get("recipients") or "")):
        if EMAIL_ADDRESS.match(token) and EMAIL in channels:
            outbox.add_address(event, "fault_notice", EMAIL, token, token, params, incident_id=incident.id)
        elif MOBILE.match(token) and SMS in channels:
            outbox.add_address(event, "fault_notice", SMS, token, token, params, incident_id=incident.id)
        else:
            for user in _accounts(session, token):
                people[user.id] = user
    for user in people.values():
        outbox.add_chosen(event, "fault_notice", user, sorted(channels), params, incident_id=incident.id)


def _accounts(session: Session, token: str) -> list[User]:
    role = ROLE_NAMES.get(token)
    if role:
        return members(session, role)
    query = select(User).where(User.active.is_(True), or_(User.username == token, User.display_name == token))
    return list(session.scalars(query))
