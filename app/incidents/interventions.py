"""Actions on an incident from outside its current step: a change it waits for reported done.

IncidentService inherits these; each is one transaction through the service's own unit (load,
act through the engine, save), like every other action. The API calls the same functions.
"""

from __future__ import annotations

from typing import Any

from app.audit import Actor
from app.incidents import permissions, projection
from app.incidents.errors import Conflict, InvalidInput, PermissionDenied
from app.messages import N_, Message

CHANGE_DONE = "change_done"  # the signal the diagram waits for at 等待变更完成
NOTE_LIMIT = 4000


def _note(text: str | None) -> str:
    note = (text or "").strip()
    if not note:
        raise InvalidInput({"note": Message(N_("Required"))})
    if len(note) > NOTE_LIMIT:
        raise InvalidInput({"note": Message(N_("Too long (at most %(limit)s characters)"), {"limit": NOTE_LIMIT})})
    return note


class Interventions:
    _unit: Any  # IncidentService's
    _signal: Any

    def report_change_done(self, actor: Actor, incident_id: int, note: str) -> None:
        """The defect or requirement the incident waited for (等待变更) is done: the incident goes back
        to the handling group that transferred it, its deadline moved by the wait."""
        if not permissions.may_handle(actor):
            raise PermissionDenied(N_("Only handlers can report a change done."))
        text = _note(note)
        with self._unit(actor, incident_id) as unit:
            if unit.incident.status != projection.WAITING_CHANGE:
                raise Conflict(N_("This incident is not waiting for a change."))
            unit.ctx.emit("change_reported_done", note=text, reference=unit.incident.change_reference)
            self._signal(unit, CHANGE_DONE, {"note": text, "by": actor.name})
