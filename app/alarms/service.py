"""Receiving alarms: each one stored, then decided under a lock for its system (or fingerprint):

- firing, and an incident opened for its fingerprint is still active → attached to it (nothing new);
- firing, and another alarm of the same system opened an incident within `storm_window` → a new
  incident, linked as a child (`part_of`, app/links) of the storm's parent — the first incident of the
  system in the window, a major incident with the rest as its children;
- firing otherwise → a new incident (type fault, source monitoring) registered by the token's account
  with the registration form's answers (`mapping.registration`), so the form's validation and the
  classification apply exactly as at the service desk;
- resolved → a work note on the incident of its fingerprint (app/comments), which stays open: people
  confirm the recovery. With `recovery_check` (ALARM_RECOVERY_CHECK) the incident's handler also gets
  a confirm-recovery check in their inbox (app/alarms/recovery.py), which they tick when they have
  looked; neither the note nor the check moves the process.

An incident that cannot be opened (the form refuses, no process published) leaves the alarm stored as
`refused` with the reason. The lock: PostgreSQL's advisory locks across processes; on SQLite (one
process) a lock in the process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select

from app import audit
from app.alarms import mapping, recovery
from app.alarms.models import ATTACHED, OPENED, REFUSED, RESOLVED, STORM_CHILD, UNMATCHED, Alarm
from app.audit import Actor
from app.comments import service as comments
from app.comments.models import WORK_NOTE
from app.incidents import projection
from app.incidents.service import IncidentService, PermissionDenied, ServiceError
from app.links import service as links
from app.links.models import PART_OF
from app.models import Incident

log = logging.getLogger(__name__)
_LOCAL_LOCK = threading.Lock()
NO_ENTRY = ""  # an alarm whose entry on the incident is written otherwise (a resolved alarm's work note)


@dataclass(frozen=True)
class Outcome:
    alarm_id: int
    fingerprint: str
    outcome: str
    incident_id: int | None
    parent_incident_id: int | None = None
    detail: str | None = None


class AlarmService:
    def __init__(
        self,
        incidents: IncidentService,
        *,
        storm_window: timedelta = timedelta(minutes=10),
        recovery_check: bool = False,
    ):
        self.incidents, self.db, self.storm_window = incidents, incidents.db, storm_window
        self.recovery_check = recovery_check

    def receive(self, actor: Actor, alarm: mapping.Received) -> Outcome:
        with self._lock(alarm.lock_key):
            if alarm.status == mapping.RESOLVED:
                return self._resolved(actor, alarm)
            return self._firing(actor, alarm)

    # ------------------------------------------------------------------ decisions

    def _firing(self, actor: Actor, alarm: mapping.Received) -> Outcome:
        open_id = self._open_incident(alarm.fingerprint)
        if open_id is not None:
            return self._store(actor, alarm, ATTACHED, open_id, note="alarm_received")
        parent_id = self._storm_parent(alarm)
        schema, _ui = self.incidents.start_form()
        data = mapping.registration(alarm, (schema.get("properties") or {}).get("facts") or {})
        try:
            incident_id = self.incidents.start(actor, incident=data["incident"], registration=data)
        except PermissionDenied:
            raise  # an account that may not register incidents: the sender must hear it (403)
        except ServiceError as error:
            return self._store(actor, alarm, REFUSED, None, detail=str(error))
        outcome = self._store(actor, alarm, STORM_CHILD if parent_id else OPENED, incident_id, parent_id=parent_id)
        if parent_id:
            try:  # a child of the major incident (app/links): its page, resolution and reports know it
                links.link(self.incidents, actor, incident_id, PART_OF, parent_id)
            except ServiceError as error:  # people re-arranged the storm meanwhile: the incident stays
                log.warning("storm child %s not linked to %s: %s", incident_id, parent_id, error)
        return outcome

    def _resolved(self, actor: Actor, alarm: mapping.Received) -> Outcome:
        open_id = self._open_incident(alarm.fingerprint)
        if open_id is None:
            return self._store(actor, alarm, UNMATCHED, None)
        outcome = self._store(actor, alarm, RESOLVED, open_id, note=NO_ENTRY)
        comments.add(self.incidents, actor, open_id, WORK_NOTE, mapping.recovery_note(alarm))  # the timeline's entry
        if self.recovery_check:  # the handler's to-do: confirm the recovery (app/alarms/recovery.py)
            with self.db.transaction() as session:
                recovery.open_check(session, actor, open_id, outcome.alarm_id, self.incidents.clock())
        return outcome

    def _open_incident(self, fingerprint: str) -> int | None:
        """The active incident an earlier alarm of this fingerprint opened or joined."""
        with self.db.read() as session:
            query = (
                select(Alarm.incident_id)
                .join(Incident, Incident.id == Alarm.incident_id)
                .where(Alarm.fingerprint == fingerprint, Incident.status.in_(projection.ACTIVE_STATUSES))
                .order_by(Alarm.id.desc())
                .limit(1)
            )
            return session.scalar(query)

    def _storm_parent(self, alarm: mapping.Received) -> int | None:
        """The storm's parent: the first incident an alarm of this system opened within the window,
        while it is active (its own parent if it was a child)."""
        if not alarm.system:
            return None
        since = self.incidents.clock() - self.storm_window
        with self.db.read() as session:
            row = session.execute(
                select(Alarm.incident_id, Alarm.parent_incident_id)
                .join(Incident, Incident.id == Alarm.incident_id)
                .where(
                    Alarm.system == alarm.system[: Alarm.system.type.length],
                    Alarm.outcome.in_((OPENED, STORM_CHILD)),
                    Alarm.received_at >= since,
                    Incident.status.in_(projection.ACTIVE_STATUSES),
                )
                .order_by(Alarm.id)
                .limit(1)
            ).first()
        return None if row is None else row.parent_incident_id or row.incident_id

    # ------------------------------------------------------------------ storing

    def _store(
        self,
        actor: Actor,
        alarm: mapping.Received,
        outcome: str,
        incident_id: int | None,
        *,
        parent_id: int | None = None,
        note: str | None = None,
        detail: str | None = None,
    ) -> Outcome:
        now = self.incidents.clock()
        with self.db.transaction() as session:
            row = Alarm(
                received_at=now,
                received_by=actor.name,
                format=alarm.format,
                source=alarm.source[:100],
                fingerprint=alarm.fingerprint[:200],
                status=alarm.status,
                system=alarm.system[:200] if alarm.system else None,
                severity=alarm.severity[:40] if alarm.severity else None,
                summary=alarm.summary[: mapping.SUMMARY_LIMIT],
                starts_at=alarm.starts_at,
                ends_at=alarm.ends_at,
                labels=json.dumps({"labels": alarm.labels, "annotations": alarm.annotations}, ensure_ascii=False),
                outcome=outcome,
                detail=detail,
                incident_id=incident_id,
                parent_incident_id=parent_id,
            )
            session.add(row)
            session.flush()
            if incident_id is not None and note != NO_ENTRY:
                kind = note or ("alarm_storm_child" if parent_id else "alarm_opened")
                data = {
                    "alarm_id": row.id,
                    "fingerprint": row.fingerprint,
                    "summary": row.summary,
                    "parent_id": parent_id,
                }
                audit.append(session, kind=kind, actor=actor, at=now, data=data, incident_id=incident_id)
            return Outcome(row.id, row.fingerprint, outcome, incident_id, parent_id, detail)

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        if not self.db.is_postgresql:
            with _LOCAL_LOCK:
                yield
            return
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        with self.db.engine.connect() as connection:
            connection.execute(select(func.pg_advisory_lock(number)))
            try:
                yield
            finally:
                connection.execute(select(func.pg_advisory_unlock(number)))
                connection.commit()


# Built once: every internal incident page reads it, and building it cost more CPU than running it.
_INCIDENT = bindparam("incident_id")
_ALARMS_OF = (
    select(Alarm)
    .where((Alarm.incident_id == _INCIDENT) | (Alarm.parent_incident_id == _INCIDENT))
    .order_by(Alarm.received_at.desc(), Alarm.id.desc())
)


def alarms_of(session, incident_id: int) -> list[Alarm]:
    """The alarms of an incident: its own, and those of its storm's children."""
    return list(session.scalars(_ALARMS_OF, {"incident_id": incident_id}))
