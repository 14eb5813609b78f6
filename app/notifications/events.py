"""Who hears of what: the rules from an incident action's events to the people it concerns.

Called by the incident service inside the action's transaction (`emit`, `task_assigned`), so the
notifications are committed with the action or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.audit import Actor
from app.engine.lanes import INCIDENT_MANAGER, LANES
from app.engine.operations import Event
from app.models import Incident, OpenTask, User
from app.notifications import steps
from app.notifications.outbox import Outbox, members, person

LEADERSHIP = "leadership"
LEVEL_ORDER = ("minor", "yellow", "orange", "red", "black")


def emit(
    session: Session, incident: Incident, events: Sequence[Event], *, actor: Actor, now: datetime,
    removed: Sequence[OpenTask] = (),
) -> None:  # fmt: skip
    """Write the notifications of one action on `incident` (after its open tasks are synced)."""
    outbox = Outbox(session, now)
    base = _incident_params(incident)
    prefix = f"incident:{incident.id}"
    for event in events:
        data = event.data
        if event.kind == "classified":
            if incident.requester_id:
                _to_requester(session, outbox, incident, f"{prefix}:registered", "registered", base)
            if data["assessment"]["emergency"]:
                outbox.add(f"{prefix}:emergency", "emergency", _emergency_people(session), base,
                           incident_id=incident.id, skip=actor.user_id)  # fmt: skip
        elif event.kind == "reclassified":
            before, after = data["before"], data["after"]
            if after["emergency"] and not before["emergency"]:
                outbox.add(f"{prefix}:emergency", "emergency", _emergency_people(session), base,
                           incident_id=incident.id, skip=actor.user_id)  # fmt: skip
            if _rank(after["level"]) > _rank(before["level"]):
                params = {**base, "before": before["level"], "after": after["level"], "rules": data["rules"],
                          "reasons": [r for r in data["assessment"]["reasons"] if r[:2] in data["rules"]]}  # fmt: skip
                outbox.add(f"{prefix}:level:{after['level']}", "escalated", managers_and_holders(session, incident),
                           params, incident_id=incident.id, skip=actor.user_id)  # fmt: skip
        elif event.kind in ("deadline_warning", "deadline_breach"):
            params = {**base, "due": data["due_at"], "holders": incident.current_assignees}
            outbox.add(f"{prefix}:{event.kind}:{data['due_at']}", event.kind, managers_and_holders(session, incident),
                       params, incident_id=incident.id)  # fmt: skip
        elif event.kind == "resolved":
            confirm = next((task for task in incident.open_tasks if _for_requester(task)), None)
            path = f"/tasks/{incident.id}/{confirm.id}" if confirm else base["path"]
            params = {**base, "solution": data.get("text"), "path": path}
            _to_requester(session, outbox, incident, f"{prefix}:resolved:{incident.reopen_count}", "resolved", params)
        elif event.kind == "closed":
            _to_requester(session, outbox, incident, f"{prefix}:closed", "closed", base)
        elif event.kind == "task_completed":
            steps.completed(session, outbox, incident, data, base, actor.user_id)
        elif event.kind == "announced":
            steps.announced(session, outbox, incident, data["text"], base, actor.user_id)
    _new_tasks(session, outbox, incident, actor, now, removed, base)
    outbox.flush()


def task_assigned(session: Session, incident: Incident, task: OpenTask, actor: Actor, now: datetime) -> None:
    """Someone assigned `task` to another person (not a claim of their own)."""
    if task.assignee_id is None or task.assignee_id == actor.user_id:
        return
    outbox = Outbox(session, now)
    params = {**_task_params(incident, task), "by": actor.name}
    outbox.add(f"task:{task.id}", "task_assigned", [person(session, task.assignee_id)], params,
               incident_id=incident.id)  # fmt: skip
    outbox.flush()


def mention(
    session: Session, incident: Incident, user_ids: Sequence[int], *, actor: Actor, now: datetime, note: str,
    note_id: int | str,
) -> None:  # fmt: skip
    """People @mentioned in a note on `incident` (for the collaboration area: call it in the transaction
    that saves the note; `note_id` makes each note's mention its own event). The author is not told."""
    people = [user for user in (person(session, user_id) for user_id in set(user_ids)) if user is not None]
    params = {**_incident_params(incident), "by": actor.name, "note": note[:1000]}
    outbox = Outbox(session, now)
    outbox.add(f"incident:{incident.id}:mention:{note_id}", "mention", people, params, incident_id=incident.id,
               skip=actor.user_id)  # fmt: skip
    outbox.flush()


def _new_tasks(
    session: Session, outbox: Outbox, incident: Incident, actor: Actor, now: datetime,
    removed: Sequence[OpenTask], base: dict[str, Any],
) -> None:  # fmt: skip
    """A task that appeared in this action reaches its holder, or everyone who may claim it; a task the
    action only re-created (same step) is no news, and neither is one for someone told of the incident
    just now (the warning and its follow-up step)."""
    recreated = {task.spec_id for task in removed}
    for task in incident.open_tasks:
        if task.created_at != now or task.spec_id in recreated or _for_requester(task):
            continue
        if task.assignee_id is not None:
            kind, people = "task_assigned", [person(session, task.assignee_id)]
        elif task.candidate_role:
            kind, people = "task_arrived", members(session, task.candidate_role)
        else:
            continue
        people = [user for user in people if user.id not in outbox.reached]
        outbox.add(f"task:{task.id}", kind, people, _task_params(incident, task), incident_id=incident.id,
                   skip=actor.user_id)  # fmt: skip


def _incident_params(incident: Incident) -> dict[str, Any]:
    return {
        "number": incident.number,
        "title": incident.title,
        "level_code": incident.level,
        "system": incident.system,
        "due": incident.due_at.isoformat() if incident.due_at else None,
        "path": f"/incidents/{incident.id}",
    }


def _task_params(incident: Incident, task: OpenTask) -> dict[str, Any]:
    due = task.due_at.isoformat() if task.due_at else None
    return {**_incident_params(incident), "task": task.name, "due": due, "path": f"/tasks/{incident.id}/{task.id}"}


def _to_requester(
    session: Session, outbox: Outbox, incident: Incident, event: str, kind: str, params: dict[str, Any]
) -> None:
    requester = person(session, incident.requester_id) if incident.requester_id else None
    if requester is not None:
        outbox.add(event, kind, [requester], params, incident_id=incident.id)


def _emergency_people(session: Session) -> list[User]:
    return members(session, INCIDENT_MANAGER, LEADERSHIP)


def managers_and_holders(session: Session, incident: Incident) -> list[User]:
    """The incident manager(s) and everyone holding one of the incident's open steps."""
    holders = {task.assignee_id for task in incident.open_tasks if task.assignee_id and not _for_requester(task)}
    people = {user.id: user for user in members(session, INCIDENT_MANAGER)}
    for user_id in holders - people.keys():
        people[user_id] = person(session, user_id)
    return list(people.values())


def _for_requester(task: OpenTask) -> bool:
    lane = LANES.get(task.lane)
    return lane is not None and lane.for_requester


def _rank(level: str | None) -> int:
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else -1
