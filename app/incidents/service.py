"""The incident service: every action on an incident, for the web app, the CLI and the timer worker.

`IncidentService` is assembled from: the unit of work every action runs in (app/incidents/unit.py),
the work on open tasks (tasks.py), actions from outside the current step (interventions.py), and,
here, the incident's life: raising and registering it, facts, tracking, withdrawal, the timers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select

from app import audit, forms
from app.audit import SYSTEM, Actor
from app.db import Database
from app.engine import operations
from app.engine.lanes import INCIDENT_MANAGER
from app.incidents import permissions, projection
from app.incidents.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.incidents.interventions import CASE_UPDATED, TRACKING_REQUESTED, Interventions
from app.incidents.tasks import TaskActions, TaskForm
from app.incidents.unit import ACTION_LOADING, UnitOfWork
from app.messages import N_, Message
from app.models import Incident, utcnow
from app.process import versions

# Callers import the refusals and the task form from here.
__all__ = ["Conflict", "IncidentService", "InvalidInput", "NotFound", "PermissionDenied", "ServiceError", "TaskForm"]

log = logging.getLogger(__name__)

TIMER_RETRY = timedelta(minutes=5)  # a timer whose engine step failed is retried after this


class IncidentService(TaskActions, Interventions, UnitOfWork):
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        settings: operations.Settings | None = None,
        models: versions.ModelCache | None = None,
    ):
        self.db = db
        self.clock = clock
        self.settings = settings or operations.Settings()
        self.models = models or versions.ModelCache()
        self.update_form = forms.event_form("update_facts")[0]
        self.forward_form = forms.event_form("forward_tracking")[0]

    # ------------------------------------------------------------------ actions on the workflow

    def start(
        self,
        actor: Actor,
        *,
        incident: Mapping[str, Any] | None = None,
        requester_id: int | None = None,
        registration: Mapping[str, Any] | None = None,
    ) -> int:
        """Raise an incident. With `registration`, the service desk registers it in the same step."""
        with self.db.transaction() as session:
            return self._start(session, actor, dict(incident or {}), requester_id, registration)

    def start_all(self, actor: Actor, registrations: list[Mapping[str, Any]]) -> list[int]:
        """Register several incidents in one transaction — all of them or none (the service desk's
        import). A refusal says which registration it came from (`error.index`)."""
        with self.db.transaction() as session:
            ids = []
            for index, data in enumerate(registrations):
                try:
                    ids.append(self._start(session, actor, dict(data.get("incident") or {}), None, data))
                except ServiceError as error:
                    error.index = index
                    raise
            return ids

    def add_facts(self, actor: Actor, incident_id: int, update: Mapping[str, Any]) -> dict[str, Any] | None:
        """A handler adds facts: the instance re-classifies (E1–E5) and re-arms its deadline.
        Returns the re-classification (its `before` and `after`), for telling what changed."""
        if not permissions.may_handle(actor):
            raise PermissionDenied(N_("Only handlers can add facts."))
        clean = self._validate(self.update_form, {"update": update})["update"]
        facts = {key: value for key, value in clean.items() if key != "note" and value is not None}
        if "designated_emergency" in facts and INCIDENT_MANAGER not in actor.roles:
            raise PermissionDenied(N_("Only the incident manager can designate an emergency."))
        if not facts:
            raise InvalidInput({"update": Message(N_("Add at least one fact."))})
        payload = {"facts": facts, "note": clean["note"], "source": "handler", "by": actor.name}
        with self._unit(actor, incident_id) as unit:
            unit.ctx.emit("facts_added", facts=facts, note=clean["note"])
            self._signal(unit, CASE_UPDATED, payload)
            return next((dict(event.data) for event in unit.ctx.events if event.kind == "reclassified"), None)

    def forward_for_tracking(self, actor: Actor, incident_id: int, note: str) -> None:
        """Ask the incident manager to track the incident; the handler keeps working."""
        if not permissions.may_handle(actor):
            raise PermissionDenied(N_("Only handlers can forward an incident for tracking."))
        clean = self._validate(self.forward_form, {"tracking_request": {"note": note}})["tracking_request"]
        with self._unit(actor, incident_id) as unit:
            payload = {"note": clean["note"], "by": actor.name, "stage": unit.incident.current_stage}
            unit.ctx.emit("forwarded_for_tracking", note=clean["note"])
            self._signal(unit, TRACKING_REQUESTED, payload)

    def set_ops_ticket(self, actor: Actor, incident_id: int, ticket: str | None) -> None:
        """Link the incident to the xxxIT platform's ticket (xxxIT平台工单号), or unlink it (None); audited."""
        if not permissions.may_handle(actor):
            raise PermissionDenied(N_("Only handlers can link an incident to a platform ticket."))
        ticket = (ticket or "").strip() or None
        if ticket is not None and len(ticket) > Incident.ops_ticket.type.length:
            limit = {"count": Incident.ops_ticket.type.length}
            raise InvalidInput({"ops_ticket": Message(N_("At most %(count)s characters."), limit)})
        with self._transaction() as session:
            incident = self._locked_incident(session, incident_id)
            before, incident.ops_ticket = incident.ops_ticket, ticket
            if before != ticket:
                audit.append(session, kind="ops_ticket_set", actor=actor, at=self.clock(),
                             data={"before": before, "after": ticket}, incident_id=incident_id)  # fmt: skip

    def withdraw(self, actor: Actor, incident_id: int, reason: str) -> None:
        """The requester takes back an incident the service desk has not registered yet."""
        refusal = N_("Only the requester can withdraw an incident, before it is registered.")
        self._end(actor, incident_id, permissions.may_withdraw, refusal, "withdrawn", reason=reason.strip())

    def close_as_duplicate(self, actor: Actor, incident_id: int, original_id: int, original: str) -> None:
        """The service desk or the incident manager closes an incident that reports what another does."""
        refusal = N_("Only the service desk or the incident manager closes an open incident as a duplicate.")
        self._end(actor, incident_id, permissions.may_close_duplicate, refusal, "closed_as_duplicate",
                  original_id=original_id, original=original)  # fmt: skip

    def _end(
        self,
        actor: Actor,
        incident_id: int,
        allowed: Callable[[Actor, Incident], bool],
        refusal: str,
        kind: str,
        **data: Any,
    ) -> None:
        """End the instance where it stands: its tasks go (audited withdrawals), the incident is closed."""
        with self._unit(actor, incident_id) as unit:
            if not allowed(actor, unit.incident):
                raise PermissionDenied(refusal)
            unit.ctx.emit(kind, **data)
            unit.run.cancel()

    def fire_due_timers(self, limit: int = 100) -> int:
        """Fire the timers that are due, one instance per transaction; returns how many instances ran.

        Safe with several workers: on PostgreSQL each takes its instance with FOR UPDATE SKIP LOCKED
        (on SQLite writers are serialized anyway).
        """
        seen: list[int] = []  # each instance at most once per sweep, whatever happens to it
        while len(seen) < limit:
            now = self.clock()
            query = (
                select(Incident)  # strictly before now: the engine's own test for a due timer
                .options(*ACTION_LOADING)
                .where(Incident.next_timer_due < now, Incident.status.in_(projection.ACTIVE_STATUSES))
                .where(Incident.id.not_in(seen))
                .order_by(Incident.next_timer_due)
                .limit(1)
            )
            if self.db.is_postgresql:
                query = query.with_for_update(of=Incident, skip_locked=True)
            try:
                with self._transaction() as session:
                    incident = session.scalar(query)
                    if incident is None:
                        break
                    seen.append(incident_id := incident.id)
                    self._save(self._load(session, incident, SYSTEM))  # loading fires what is due
            except Conflict:
                pass  # another worker or a user saved it first; it is no longer due
            except (SpiffWorkflowException, ServiceError) as error:
                log.exception("timer step failed for incident %s", incident_id)
                self._postpone_timer(incident_id, now, str(error))
        return len(seen)

    def start_form(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """The form a new incident starts with (the current version's registration form)."""
        with self.db.read() as session:
            version = versions.latest(session)
            if version is None:
                raise ServiceError(N_("No process version has been published yet."))
            model = self.models.get(version)
        if model.start_task is None:
            raise ServiceError(N_("The published process has no start form."))
        return model.form(model.start_task)

    def _postpone_timer(self, incident_id: int, now: datetime, message: str) -> None:
        with self.db.transaction() as session:
            incident = session.get(Incident, incident_id)
            incident.next_timer_due = now + TIMER_RETRY
            audit.append(
                session, kind="engine_error", actor=SYSTEM, at=now, data={"error": message}, incident_id=incident_id
            )
