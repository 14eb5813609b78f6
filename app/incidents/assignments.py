"""Who holds an open task when something other than a claim changes it: a task the process
withdraws, a step that comes back after a reopen (to the handler who resolved it), and the tasks
of an account that is deactivated or loses a role (back to the group's pool). Every change is an
audit row, as a claim is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.audit import SYSTEM, Actor
from app.engine.operations import Event
from app.incidents import permissions, projection
from app.models import Incident, OpenTask, User
from app.notifications.outbox import accounts_by_id, roles_of

# Why a task changed hands without anyone claiming it (`reason` of the audit row).
REOPENED = "reopened"
ACCOUNT_DISABLED = "account_disabled"
ROLE_REMOVED = "role_removed"


def summarize(session: Session, incident: Incident) -> None:
    """The incident's list column of who holds its open tasks.

    Their accounts are read with their roles and notification choices: the action's notifications go
    to the same people next, and read neither again (app/notifications/outbox.accounts)."""
    ids = {task.assignee_id for task in incident.open_tasks if task.assignee_id}
    holders = accounts_by_id(session, ids)
    projection.summarize_assignees(incident, {user.id: user.display_name for user in holders})


def load_holders(session: Session, incident: Incident) -> None:
    """Each open task holds its holder's account, to be read after the transaction (an answer naming
    them): those the action read already (`summarize`, its notifications) need no statement."""
    ids = {task.assignee_id for task in incident.open_tasks if task.assignee_id}
    holders = {user.id: user for user in accounts_by_id(session, ids)}
    for task in incident.open_tasks:
        set_committed_value(task, "assignee", holders.get(task.assignee_id))


def withdrawals(
    incident: Incident, events: Sequence[Event], removed: Sequence[OpenTask], now: datetime
) -> list[audit.Entry]:
    """A row for each task that went away without being completed or re-created: withdrawn by the
    process (a warning follow-up when the handling ends, a handler's step when the incident becomes
    an emergency). The process withdrew it, so the row is the system's, not the person's whose
    action happened to end the need for it."""
    completed = {event.data.get("task_id") for event in events if event.kind == "task_completed"}
    still_open = {task.spec_id for task in incident.open_tasks}
    return [
        audit.Entry(
            kind="task_withdrawn",
            actor=SYSTEM,
            at=now,
            data={"spec_id": task.spec_id, "lane": task.lane, "assignee_id": task.assignee_id},
            incident_id=incident.id,
            task_id=task.id,
            task_name=task.name,
        )
        for task in removed
        if task.id not in completed and task.spec_id not in still_open
    ]


def after_reopen(session: Session, incident: Incident, events: Sequence[Event], now: datetime) -> list[audit.Entry]:
    """A reopened incident's step goes back to the handler who resolved it, when they still may work it."""
    if not any(event.kind == "reopened" for event in events) or incident.resolver_id is None:
        return []
    found = accounts_by_id(session, [incident.resolver_id])
    resolver = found[0] if found else None
    if resolver is None or not resolver.active:
        return []
    roles = roles_of(session, resolver)
    entries = []
    for task in incident.open_tasks:
        fresh = task.created_at == now and task.assignee_id is None
        if fresh and permissions.may_receive(roles, resolver.id, task, incident):
            task.assignee_id, task.claimed_at = resolver.id, now
            entries.append(_entry("task_assigned", task, None, resolver.id, REOPENED, SYSTEM, now))
    return entries


def release_for_account(session: Session, user: User, actor: Actor, now: datetime) -> int:
    """Return to their group's pool the open tasks this account may no longer work (it is
    deactivated, or lost the task's role); returns how many. Runs in the account change's
    transaction, so both are saved together."""
    incident_ids = session.scalars(select(OpenTask.incident_id).where(OpenTask.assignee_id == user.id)).all()
    if not incident_ids:
        return 0
    # Lock the incidents first, as every incident action does, so a task is never worked while it moves.
    session.scalars(select(Incident.id).where(Incident.id.in_(set(incident_ids))).with_for_update()).all()
    tasks = session.scalars(
        select(OpenTask)
        .where(OpenTask.assignee_id == user.id)
        .options(joinedload(OpenTask.incident))
        .order_by(OpenTask.incident_id, OpenTask.created_at)
    ).all()
    reason = ROLE_REMOVED if user.active else ACCOUNT_DISABLED
    entries, touched = [], {}
    for task in tasks:
        if user.active and permissions.may_receive(user.roles, user.id, task, task.incident):
            continue
        task.assignee_id, task.claimed_at = None, None
        entries.append(_entry("task_released", task, user.id, None, reason, actor, now))
        touched[task.incident_id] = task.incident
    session.flush()
    for incident in touched.values():
        summarize(session, incident)
        incident.updated_at = now  # a concurrent action on the incident now conflicts, as with a claim
    audit.append_all(session, entries)
    return len(entries)


def release_stranded(session: Session, actor: Actor, now: datetime) -> int:
    """Release every task held by an account that may no longer work it (left over from before
    releases were made with each account change); run at `db upgrade`. Returns how many."""
    holders = session.scalars(select(User).where(User.id.in_(select(OpenTask.assignee_id)))).all()
    return sum(release_for_account(session, user, actor, now) for user in holders)


def _entry(
    kind: str, task: OpenTask, before: int | None, after: int | None, reason: str, actor: Actor, now: datetime
) -> audit.Entry:
    return audit.Entry(
        kind=kind,
        actor=actor,
        at=now,
        data={"before": before, "after": after, "spec_id": task.spec_id, "reason": reason},
        incident_id=task.incident_id,
        task_id=task.id,
        task_name=task.name,
    )
