"""Who may do what with an incident's tasks — checked in the service, whatever the caller."""

from __future__ import annotations

from app.audit import Actor
from app.engine.lanes import (
    FIRST_LINE,
    INCIDENT_MANAGER,
    LANES,
    REQUESTER,
    SECOND_LINE_GROUPS,
    SERVICE_DESK,
    task_roles,
)
from app.models import Incident, OpenTask, User

# Roles that handle incidents and may add facts or forward an incident for tracking.
HANDLER_ROLES = frozenset({SERVICE_DESK, FIRST_LINE, INCIDENT_MANAGER, *SECOND_LINE_GROUPS.values()})


def may_work(actor: Actor, task: OpenTask, incident: Incident) -> bool:
    """May complete the task: a candidate, not blocked by someone else's claim."""
    lane = LANES.get(task.lane)
    if lane is None:
        return False
    if lane.for_requester:
        own = actor.user_id is not None and actor.user_id == incident.requester_id and REQUESTER in actor.roles
        return own or bool(actor.roles & set(lane.delegates))
    if not actor.roles & task_roles(task.spec_id, task.candidate_role):
        return False
    return task.assignee_id is None or task.assignee_id == actor.user_id


def may_claim(actor: Actor, task: OpenTask, incident: Incident) -> bool:
    return task.assignee_id is None and may_work(actor, task, incident)


def may_release(actor: Actor, task: OpenTask) -> bool:
    """A handler may give back a task they hold; the incident manager any task. (A requester's
    confirmation is theirs: they answer it, they do not pass it on.)"""
    if task.assignee_id is None:
        return False
    return INCIDENT_MANAGER in actor.roles or (task.assignee_id == actor.user_id and may_handle(actor))


def may_assign(actor: Actor, task: OpenTask, incident: Incident) -> bool:
    """A handler who may work the task may pass it to a colleague; the incident manager may reassign any task."""
    return INCIDENT_MANAGER in actor.roles or (may_handle(actor) and may_work(actor, task, incident))


def may_receive(roles: frozenset[str], user_id: int, task: OpenTask, incident: Incident) -> bool:
    """May this user be given the task?"""
    lane = LANES.get(task.lane)
    if lane is None:
        return False
    if lane.for_requester:
        return user_id == incident.requester_id and REQUESTER in roles or bool(roles & set(lane.delegates))
    return bool(roles & task_roles(task.spec_id, task.candidate_role))


def may_be_requester(user: User | None) -> bool:
    """Who may be named as an incident's requester (and so confirm its resolution)."""
    return user is not None and user.active and REQUESTER in user.roles


def may_withdraw(actor: Actor, incident: Incident) -> bool:
    """The requester, on their own incident, while it waits for registration (status `new`)."""
    own = actor.user_id is not None and actor.user_id == incident.requester_id and REQUESTER in actor.roles
    return own and incident.status == "new"


def may_close_duplicate(actor: Actor, incident: Incident) -> bool:
    """The service desk or the incident manager, on an incident not resolved yet."""
    return bool(actor.roles & {SERVICE_DESK, INCIDENT_MANAGER}) and incident.status in ("new", "open")


def may_handle(actor: Actor) -> bool:
    return bool(actor.roles & HANDLER_ROLES)
