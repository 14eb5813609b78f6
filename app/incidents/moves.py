"""Moving running incidents onto another version of their process (the engine side: app/process/migration.py).

Only a process owner moves incidents. A preview reads each incident and moves it in memory; a move is one
action on the incident like any other (its lock, its transaction), audited as `migrated` with the version
before and after and the tasks added and removed. An incident that cannot move is refused with the reason,
and nothing of it changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import Actor
from app.engine import operations
from app.engine.runtime import Run
from app.incidents import projection, state
from app.incidents.service import Conflict, IncidentService, NotFound, PermissionDenied
from app.messages import N_
from app.models import Incident, ProcessVersion
from app.process import migration

PROCESS_OWNER = "process_owner"
MIGRATED = "migrated"
PREVIEW_LIMIT = 200  # incidents previewed at once (each is loaded and moved in memory: ~20 ms)


@dataclass(frozen=True)
class Candidate:
    incident_id: int
    title: str
    status: str
    version: int  # the version it runs on now
    preview: migration.Preview


class VersionMoves:
    def __init__(self, service: IncidentService):
        self.service = service

    def candidates(self, version_id: int, limit: int = PREVIEW_LIMIT) -> list[Candidate]:
        """Every running incident on another version of the same process, with what moving it would do."""
        with self.service.db.read() as session:
            target = _version(session, version_id)
            query = (
                select(Incident)
                .join(ProcessVersion, Incident.process_version_id == ProcessVersion.id)
                .where(ProcessVersion.process_id == target.process_id, Incident.process_version_id != target.id)
                .where(Incident.status.in_(projection.ACTIVE_STATUSES))
                .order_by(Incident.id)
                .limit(limit)
            )
            found = []
            for incident in session.scalars(query):
                preview = migration.migrate(self._run(session, incident), self.service._model(session, target.id))
                version = incident.process_version.version
                found.append(Candidate(incident.id, incident.title, incident.status, version, preview))
        return found

    def migrate(self, actor: Actor, incident_id: int, version_id: int) -> migration.Preview:
        """Move one incident; raises Conflict with the reason when it cannot move (nothing changes then)."""
        if PROCESS_OWNER not in actor.roles:
            raise PermissionDenied(N_("Only process owners can move incidents to another version."))
        with self.service._unit(actor, incident_id) as unit:
            incident = unit.incident
            target = _version(unit.session, version_id)
            before = _version(unit.session, incident.process_version_id)  # the unit does not load the row
            if before.process_id != target.process_id or before.id == target.id:
                raise Conflict(N_("The incident already runs on version %(number)s."), number=target.version)
            if incident.status not in projection.ACTIVE_STATUSES:
                raise Conflict(N_("Only running incidents can move to another version."))
            preview = migration.migrate(unit.run, self.service._model(unit.session, target.id))
            if not preview.can_move:
                raise Conflict(N_("The incident cannot move to version %(number)s: %(reason)s"),
                               number=target.version, reason=preview.reason)  # fmt: skip
            unit.ctx.emit(MIGRATED, process_id=target.process_id, version_before=before.version,
                          version_after=target.version, added=preview.added, removed=preview.removed)  # fmt: skip
            incident.process_version_id = target.id
        return preview

    def migrate_all(self, actor: Actor, version_id: int) -> tuple[list[int], list[tuple[int, Conflict]]]:
        """Move every running incident that can move; (moved ids, (id, refusal) of the others)."""
        moved, refused = [], []
        for candidate in self.candidates(version_id):
            try:
                self.migrate(actor, candidate.incident_id, version_id)
                moved.append(candidate.incident_id)
            except Conflict as error:
                refused.append((candidate.incident_id, error))
        return moved, refused

    def _run(self, session: Session, incident: Incident) -> Run:
        ctx = operations.Context(now=self.service.clock(), settings=self.service.settings)
        model = self.service._model(session, incident.process_version_id)
        return Run.load(model, state.text_of(session, incident.id), ctx)


def _version(session: Session, version_id: int) -> ProcessVersion:
    version = session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(N_("There is no such process version."))
    return version
