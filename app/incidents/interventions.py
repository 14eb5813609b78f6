"""Actions on an incident from outside its current step: a change it waits for reported done;
leadership's demand for urgent handling (spec §2: leadership may demand urgent handling on any open
incident and post coordination notes — those are work notes, app/comments — and is read-only otherwise).

IncidentService inherits these; each is one transaction through the service's own unit (load,
act through the engine, save), like every other action. The API calls the same functions.
"""

from __future__ import annotations

from typing import Any

from app.audit import Actor
from app.incidents import permissions, projection
from app.incidents.errors import Conflict, InvalidInput, PermissionDenied
from app.messages import N_, Message

# Signals the application throws into an instance (names, not labels: relabelling keeps them).
CASE_UPDATED = "case_updated"  # new facts: the diagram re-classifies (重新分类与升级)
TRACKING_REQUESTED = "tracking_requested"
CHANGE_DONE = "change_done"  # the change the incident waits for at 等待变更完成 is done
LEADERSHIP = "leadership"
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

    def report_change_done(self, actor: Actor, incident_id: int, note: str, reference: str | None = None) -> None:
        """The defect or requirement the incident waited for (等待变更) is done: the incident goes back
        to the handling group that transferred it, its deadline moved by the wait. A `reference` (the
        change process's number, sent by the API's callback) must be the one the incident waits for."""
        if not permissions.may_handle(actor):
            raise PermissionDenied(N_("Only handlers can report a change done."))
        text = _note(note)
        with self._unit(actor, incident_id) as unit:
            if unit.incident.status != projection.WAITING_CHANGE:
                raise Conflict(N_("This incident is not waiting for a change."))
            expected = unit.incident.change_reference
            if reference is not None and reference.strip() != (expected or ""):
                raise Conflict(
                    N_("This incident waits for the change %(expected)s, not %(given)s."),
                    expected=expected or "-",
                    given=reference.strip(),
                )
            unit.ctx.emit("change_reported_done", note=text, reference=unit.incident.change_reference)
            self._signal(unit, CHANGE_DONE, {"note": text, "by": actor.name})

    def demand_urgent_handling(self, actor: Actor, incident_id: int, reason: str) -> None:
        """Leadership demands urgent handling (one action, with a reason): a key stakeholder's
        explicit request makes urgency high, so the incident becomes an emergency and goes to the
        incident manager; audited as leadership's request."""
        if LEADERSHIP not in actor.roles:
            raise PermissionDenied(N_("Only leadership can demand urgent handling."))
        text = _note(reason)
        with self._unit(actor, incident_id) as unit:
            if unit.incident.status != projection.OPEN:
                raise Conflict(N_("Only incidents in handling can be handled urgently."))
            if unit.incident.emergency:
                raise Conflict(N_("This incident is already an emergency."))
            unit.ctx.emit("urgent_handling_demanded", reason=text)
            payload = {"facts": {"urgent_requested": True}, "note": text, "source": LEADERSHIP, "by": actor.name}
            self._signal(unit, CASE_UPDATED, payload)
