"""Work on an incident's open tasks: a task's form, completing it, claiming, releasing and
assigning it. IncidentService inherits these; each is one transaction like every other action.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit, notifications
from app.audit import Actor
from app.engine import operations
from app.engine.runtime import TASK_GONE, EngineError, Run
from app.incidents import assignments, permissions, state
from app.incidents.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.incidents.unit import UnitOfWork
from app.messages import N_, Message
from app.models import Incident, IncidentState, OpenTask, User


@dataclass(frozen=True)
class TaskForm:
    task_id: str
    spec_id: str
    name: str
    lane: str
    schema: Mapping[str, Any]
    ui: Mapping[str, Any]
    data: Mapping[str, Any]


class TaskActions(UnitOfWork):
    def complete_task(
        self, actor: Actor, incident_id: int, task_id: str, data: Mapping[str, Any], *, holders: bool = False
    ) -> list[OpenTask]:
        """Complete the task; returns the incident's open tasks after the step (with `holders`, each with
        its holder's account, for an answer that names them)."""
        with self._unit(actor, incident_id, holders=holders) as unit:
            row = self._task_row(unit.incident, task_id)
            if not permissions.may_work(actor, row, unit.incident):
                raise PermissionDenied(N_("You cannot work on this task."))
            if row.assignee_id is None:
                row.assignee_id = actor.user_id
            try:
                task = unit.run.ready_task(task_id)
            except EngineError as error:
                raise Conflict(error.message) from None
            self._complete(unit, task, data)
        return list(unit.incident.open_tasks)

    def task_form(self, incident_id: int, task_id: str) -> TaskForm:
        """What a task page shows: the task's form and the data it starts from (reads one instance)."""
        with self.db.read() as session:
            query = select(Incident.process_version_id, IncidentState.state).join(
                IncidentState, IncidentState.incident_id == Incident.id
            )
            found = session.execute(query.where(Incident.id == incident_id)).first()
            if found is None:
                raise NotFound(N_("There is no such incident."))
            model = self._model(session, found.process_version_id)
        run = Run.load(model, state.decode(found.state), operations.Context(self.clock()))
        try:
            task = run.ready_task(task_id)
        except EngineError as error:
            raise Conflict(error.message) from None
        schema, ui = run.model.form(task.spec_id)
        # Each step decides afresh: a form starts from what the incident was raised with (a portal
        # incident's description), never from an earlier step's answers to the same variables.
        raised_with = run.workflow.task_tree.data
        start = {name: raised_with[name] for name in schema.get("properties", {}) if name in raised_with}
        start = {**notifications.prefill(task.spec_id, task.data), **start}  # the fault notice, from the incident
        return TaskForm(task.id, task.spec_id, task.name, task.lane, schema, ui, start)

    def submitted_form(self, task: OpenTask) -> TaskForm:
        """The form a posted task is read against, from the version's parsed model without loading
        the instance: completing it checks that the task is still ready, in the same transaction."""
        with self.db.read() as session:  # no statement unless the version was never parsed here
            model = self._model(session, task.incident.process_version_id)
        schema, ui = model.form(task.spec_id)
        return TaskForm(task.id, task.spec_id, task.name, task.lane, schema, ui, {})

    # ------------------------------------------------------------------ task assignment

    def claim(self, actor: Actor, incident_id: int, task_id: str) -> None:
        with self._task_change(incident_id, task_id) as (session, incident, task):
            if task.assignee_id == actor.user_id:
                return
            if task.assignee_id is not None:
                raise Conflict(N_("Someone else has already claimed this task."))
            if not permissions.may_claim(actor, task, incident):
                raise PermissionDenied(N_("You cannot claim this task."))
            self._reassign(session, incident, task, actor.user_id, actor, "task_claimed")

    def release(self, actor: Actor, incident_id: int, task_id: str) -> None:
        with self._task_change(incident_id, task_id) as (session, incident, task):
            if not permissions.may_release(actor, task):
                raise PermissionDenied(N_("You cannot release this task."))
            self._reassign(session, incident, task, None, actor, "task_released")

    def assign(self, actor: Actor, incident_id: int, task_id: str, assignee_id: int) -> None:
        with self._task_change(incident_id, task_id) as (session, incident, task):
            if not permissions.may_assign(actor, task, incident):
                raise PermissionDenied(N_("You cannot assign this task."))
            assignee = session.get(User, assignee_id)
            if assignee is None or not assignee.active:
                raise InvalidInput({"assignee": Message(N_("There is no such user."))})
            if not permissions.may_receive(assignee.roles, assignee.id, task, incident):
                raise InvalidInput(
                    {
                        "assignee": Message(
                            N_("%(name)s does not have the role for this task."), {"name": assignee.display_name}
                        )
                    }
                )
            self._reassign(session, incident, task, assignee.id, actor, "task_assigned")

    def _task_row(self, incident: Incident, task_id: str) -> OpenTask:
        for task in incident.open_tasks:
            if task.id == task_id:
                return task
        raise Conflict(TASK_GONE)

    @contextmanager
    def _task_change(self, incident_id: int, task_id: str) -> Iterator[tuple[Session, Incident, OpenTask]]:
        with self._transaction() as session:
            incident = self._locked_incident(session, incident_id)
            task = session.get(OpenTask, task_id)
            if task is None or task.incident_id != incident.id:
                raise Conflict(TASK_GONE)
            yield session, incident, task

    def _reassign(
        self, session: Session, incident: Incident, task: OpenTask, assignee_id: int | None, actor: Actor, kind: str
    ) -> None:
        now = self.clock()
        before = task.assignee_id
        task.assignee_id, task.claimed_at = assignee_id, now if assignee_id else None
        session.flush()
        assignments.summarize(session, incident)
        audit.append(
            session,
            kind=kind,
            actor=actor,
            at=now,
            data={"before": before, "after": assignee_id, "spec_id": task.spec_id},
            incident_id=incident.id,
            task_id=task.id,
            task_name=task.name,
        )
        notifications.task_assigned(session, incident, task, actor, now)
