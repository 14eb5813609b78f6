"""Confirm-recovery checks (ALARM_RECOVERY_CHECK): when an alarm clears, the handler of its incident
gets a to-do — confirm the service has recovered — in their inbox and in the API's task list
(`kind: recovery_check`), and ticks it once they have looked.

The diagram has no confirm-recovery step, and an alarm must never move the process (it never closes,
resolves or completes anything), so this is an application task beside the process, not in it:
opening and ticking a check are audit rows on the incident (`recovery_check_opened`,
`recovery_confirmed`), and nothing else changes. People resolve and close the incident as always.

Whose it is, read whenever it is shown or ticked (so it follows the incident's handling as people
claim, release and pass it on): the holder of the incident's handling task (a claimed one first, else
the newest); if nobody holds it, anyone of that task's group; an incident with no open handling task
(resolved, waiting for a change) goes to the service desk, who follow the incident up to its closure.
The person and group it first went to are kept on the row and in `recovery_check_opened`. One check at
a time per incident: a clear while one is open adds nothing. The incident manager may tick any check.
When the incident ends (closed, withdrawn, a duplicate) an unticked check ends with it, in the same
transaction: `closed_at` is set and `recovery_check_closed` audited (`settle`, which the incident
service calls in the action that ends the incident: registered below, whether checks are switched on
or not, so that checks opened before they were switched off still end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from app import audit
from app.alarms.models import Alarm, RecoveryCheck
from app.audit import SYSTEM, Actor
from app.engine.lanes import INCIDENT_MANAGER, REQUESTER_LANES, SERVICE_DESK
from app.incidents.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.incidents.unit import when_ended
from app.messages import N_, Message
from app.models import Incident, OpenTask, User

NOTE_LIMIT = 4000

# The handling task a check follows (see `_handling`), and its holder, joined beside each check.
Handling = aliased(OpenTask, name="handling")
Holder = aliased(User, name="holder")
HOLDER_ROLE = func.coalesce(Handling.candidate_role, literal(SERVICE_DESK))  # no handling task: the desk


def _handling(incident_id: Any, *columns: Any) -> Select:
    """The incident's handling task: a claimed one first, else the newest (the requester's are not)."""
    return (
        select(*columns)
        .where(OpenTask.incident_id == incident_id, OpenTask.lane.not_in(REQUESTER_LANES))
        .order_by(OpenTask.assignee_id.is_(None), OpenTask.created_at.desc(), OpenTask.id)
        .limit(1)
    )


def _holder(session: Session, incident_id: int) -> tuple[int | None, str]:
    """Who holds the incident's checks now: the handling task's assignee, and its group."""
    row = session.execute(_handling(incident_id, OpenTask.assignee_id, OpenTask.candidate_role)).first()
    return (row.assignee_id, row.candidate_role or SERVICE_DESK) if row else (None, SERVICE_DESK)


def _with_holder(query: Select) -> Select:
    current = _handling(RecoveryCheck.incident_id, OpenTask.id).correlate(RecoveryCheck).scalar_subquery()
    return query.outerjoin(Handling, Handling.id == current)


UNSETTLED = and_(RecoveryCheck.confirmed_at.is_(None), RecoveryCheck.closed_at.is_(None))  # neither ticked nor ended


def open_check(session: Session, actor: Actor, incident_id: int, alarm_id: int, now: datetime) -> int | None:
    """Give the incident's handler a check for this cleared alarm; None if one is open already."""
    if session.scalar(select(RecoveryCheck.id).where(RecoveryCheck.incident_id == incident_id, UNSETTLED)) is not None:
        return None
    assignee_id, role = _holder(session, incident_id)
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
    holder_id: int | None  # whose it is now (None: anyone of `role`)
    holder_name: str | None
    role: str


def _theirs(actor: Actor, mine: bool = False) -> ColumnElement[bool]:
    held = Handling.assignee_id == actor.user_id
    return held if mine else or_(held, and_(Handling.assignee_id.is_(None), HOLDER_ROLE.in_(actor.roles)))


def pending(
    session: Session, actor: Actor, limit: int = 100, *, mine: bool = False, after: ColumnElement[bool] | None = None
) -> list[Pending]:
    """The checks waiting for this person, oldest first: held by them, or by their group with nobody
    holding it (`mine`: only the first); `after` cuts a page (the API's task list)."""
    query = _with_holder(
        select(RecoveryCheck, Incident, Alarm, Handling.assignee_id, Holder.display_name, HOLDER_ROLE)
        .join(Incident, Incident.id == RecoveryCheck.incident_id)
        .join(Alarm, Alarm.id == RecoveryCheck.alarm_id)
    ).outerjoin(Holder, Holder.id == Handling.assignee_id)
    query = query.where(UNSETTLED, _theirs(actor, mine))
    if after is not None:
        query = query.where(after)
    rows = session.execute(query.order_by(RecoveryCheck.created_at, RecoveryCheck.id).limit(limit)).all()
    return [Pending(*row) for row in rows]


def pending_count_query(actor: Actor) -> Select:
    """For the menu's badge (app.live.service): the count of the checks waiting for this person."""
    return _with_holder(select(func.count()).select_from(RecoveryCheck)).where(UNSETTLED, _theirs(actor))


def may_confirm(actor: Actor, holder_id: int | None, role: str) -> bool:
    if INCIDENT_MANAGER in actor.roles:
        return True
    if holder_id is not None:
        return holder_id == actor.user_id
    return role in actor.roles


def confirm(session: Session, actor: Actor, check_id: int, note: str, now: datetime) -> int:
    """Tick the check (recovery confirmed, with an optional note); returns its incident's id."""
    check = session.scalar(select(RecoveryCheck).where(RecoveryCheck.id == check_id).with_for_update())
    if check is None:
        raise NotFound(N_("There is no such recovery check."))
    if not may_confirm(actor, *_holder(session, check.incident_id)):
        raise PermissionDenied(N_("This recovery check is someone else's."))
    if check.confirmed_at is not None:
        raise Conflict(N_("%(name)s has already confirmed this recovery."), name=check.confirmed_by)
    if check.closed_at is not None:
        raise Conflict(N_("The incident has been closed: its recovery check ended with it."))
    text = (note or "").strip()
    if len(text) > NOTE_LIMIT:
        raise InvalidInput({"note": Message(N_("Too long (at most %(limit)s characters)"), {"limit": NOTE_LIMIT})})
    check.confirmed_at, check.confirmed_by, check.note = now, actor.name, text or None
    data = {"check_id": check.id, "alarm_id": check.alarm_id, **({"note": text} if text else {})}
    audit.append(session, kind="recovery_confirmed", actor=actor, at=now, data=data, incident_id=check.incident_id)
    return check.incident_id


def settle(session: Session, incident: Incident, now: datetime) -> list[audit.Entry]:
    """The incident has ended: its unticked check ends with it (nobody is left to ask). Returns the
    audit rows (`recovery_check_closed`, by the system), which the closing action appends with its own."""
    entries = []
    for check in session.scalars(select(RecoveryCheck).where(RecoveryCheck.incident_id == incident.id, UNSETTLED)):
        check.closed_at = now
        data = {"check_id": check.id, "alarm_id": check.alarm_id, "status": incident.status}
        entry = audit.Entry(kind="recovery_check_closed", actor=SYSTEM, at=now, data=data, incident_id=incident.id)
        entries.append(entry)
    return entries


when_ended(settle)
