"""Confirm-recovery checks (ALARM_RECOVERY_CHECK): when an alarm clears, the handler of its incident
gets a to-do in their inbox — confirm the service has recovered — and ticks it once they have looked.

The diagram has no confirm-recovery step, and an alarm must never move the process (it never closes,
resolves or completes anything), so this is an application task beside the process, not in it:
opening and ticking a check are audit rows on the incident (`recovery_check_opened`,
`recovery_confirmed`), and nothing else changes. People resolve and close the incident as always.

Who gets it: the holder of the incident's handling task (a claimed one first, else the newest); if
nobody holds it, anyone of that task's group; an incident with no open handling task (resolved,
waiting for a change) goes to the service desk, who follow the incident up to its closure. One
check at a time per incident: a clear while one is open adds nothing. The incident manager may tick
any check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import audit
from app.alarms.models import Alarm, RecoveryCheck
from app.audit import Actor
from app.engine.lanes import INCIDENT_MANAGER, SERVICE_DESK
from app.incidents.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.messages import N_, Message
from app.models import Incident, OpenTask, User
from app.web.queries import REQUESTER_LANES

NOTE_LIMIT = 4000


def open_check(session: Session, actor: Actor, incident_id: int, alarm_id: int, now: datetime) -> int | None:
    """Give the incident's handler a check for this cleared alarm; None if one is open already."""
    pending = select(RecoveryCheck.id).where(
        RecoveryCheck.incident_id == incident_id, RecoveryCheck.confirmed_at.is_(None)
    )
    if session.scalar(pending) is not None:
        return None
    handling = session.scalars(
        select(OpenTask)
        .where(OpenTask.incident_id == incident_id, OpenTask.lane.not_in(REQUESTER_LANES))
        .order_by(OpenTask.assignee_id.is_(None), OpenTask.created_at.desc(), OpenTask.id)
        .limit(1)
    ).first()
    assignee_id = handling.assignee_id if handling else None
    role = handling.candidate_role if handling and handling.candidate_role else SERVICE_DESK
    check = RecoveryCheck(incident_id=incident_id, alarm_id=alarm_id, assignee_id=assignee_id,
                          candidate_role=role, created_at=now)  # fmt: skip
    session.add(check)
    session.flush()
    assignee = session.get(User, assignee_id) if assignee_id else None
    data = {"check_id": check.id, "alarm_id": alarm_id, "role": role,
            "assignee": assignee.display_name if assignee else None}  # fmt: skip
    audit.append(session, kind="recovery_check_opened", actor=actor, at=now, data=data, incident_id=incident_id)
    return check.id


@dataclass(frozen=True)
class Pending:
    check: RecoveryCheck
    incident: Incident
    alarm: Alarm


def _theirs(actor: Actor):
    mine = RecoveryCheck.assignee_id == actor.user_id
    return or_(mine, RecoveryCheck.assignee_id.is_(None) & RecoveryCheck.candidate_role.in_(actor.roles))


def pending(session: Session, actor: Actor, limit: int = 100) -> list[Pending]:
    """The checks waiting for this person: assigned to them, or to their group with nobody assigned."""
    query = (
        select(RecoveryCheck, Incident, Alarm)
        .join(Incident, Incident.id == RecoveryCheck.incident_id)
        .join(Alarm, Alarm.id == RecoveryCheck.alarm_id)
        .where(RecoveryCheck.confirmed_at.is_(None), _theirs(actor))
        .order_by(RecoveryCheck.created_at, RecoveryCheck.id)
        .limit(limit)
    )
    return [Pending(check, incident, alarm) for check, incident, alarm in session.execute(query).all()]


def pending_count(session: Session, actor: Actor) -> int:
    """For the menu's badge."""
    query = select(func.count()).select_from(RecoveryCheck).where(RecoveryCheck.confirmed_at.is_(None), _theirs(actor))
    return session.scalar(query) or 0


def may_confirm(actor: Actor, check: RecoveryCheck) -> bool:
    if INCIDENT_MANAGER in actor.roles:
        return True
    if check.assignee_id is not None:
        return check.assignee_id == actor.user_id
    return check.candidate_role in actor.roles


def confirm(session: Session, actor: Actor, check_id: int, note: str, now: datetime) -> int:
    """Tick the check (recovery confirmed, with an optional note); returns its incident's id."""
    check = session.scalar(select(RecoveryCheck).where(RecoveryCheck.id == check_id).with_for_update())
    if check is None:
        raise NotFound(N_("There is no such recovery check."))
    if not may_confirm(actor, check):
        raise PermissionDenied(N_("This recovery check is someone else's."))
    if check.confirmed_at is not None:
        raise Conflict(N_("%(name)s has already confirmed this recovery."), name=check.confirmed_by)
    text = (note or "").strip()
    if len(text) > NOTE_LIMIT:
        raise InvalidInput({"note": Message(N_("Too long (at most %(limit)s characters)"), {"limit": NOTE_LIMIT})})
    check.confirmed_at, check.confirmed_by, check.note = now, actor.name, text or None
    data = {"check_id": check.id, "alarm_id": check.alarm_id, **({"note": text} if text else {})}
    audit.append(session, kind="recovery_confirmed", actor=actor, at=now, data=data, incident_id=check.incident_id)
    return check.incident_id
