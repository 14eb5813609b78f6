"""The incident service: every action on an incident, for the web app, the CLI and the timer worker.

Each action is one transaction that loads the instance once, fires timers that fell due, applies
the action through the engine, and saves once: the engine state (one row of incident_states, read
once and written once), the indexed columns (one UPDATE of the incident row), the open-task rows
and the audit rows are committed together or not at all. Two actions on the same
instance at once: one wins, the other gets `Conflict` (optimistic lock on the incident row).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session, raiseload
from sqlalchemy.orm.exc import StaleDataError

from app import audit, forms, notifications
from app.audit import SYSTEM, Actor
from app.db import Database
from app.engine import operations
from app.engine.lanes import INCIDENT_MANAGER, LANES, task_roles
from app.engine.model import ProcessModel
from app.engine.runtime import TASK_GONE, EngineError, ReadyTask, Run
from app.forms import FormErrors
from app.incidents import assignments, notification, permissions, projection, state
from app.incidents.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.incidents.interventions import CASE_UPDATED, TRACKING_REQUESTED, Interventions
from app.messages import N_, Message
from app.models import Announcement, Incident, IncidentState, OpenTask, ProblemTicket, User, utcnow
from app.process import versions

log = logging.getLogger(__name__)

TIMER_RETRY = timedelta(minutes=5)  # a timer whose engine step failed is retried after this

# An action needs the version's parsed model (cached by id), never the version row with its diagram.
NO_VERSION_ROW = raiseload(Incident.process_version)


@dataclass(frozen=True)
class TaskForm:
    task_id: str
    spec_id: str
    name: str
    lane: str
    schema: Mapping[str, Any]
    ui: Mapping[str, Any]
    data: Mapping[str, Any]


@dataclass
class _Unit:
    """One action on one instance, inside one transaction."""

    session: Session
    incident: Incident
    run: Run
    ctx: operations.Context
    actor: Actor
    system_until: int  # events before this index came from timers, not from the actor
    stored: IncidentState | None  # the row the state was read from; None for a new incident
    assignees: frozenset[int] = frozenset()  # who held the open tasks when it was loaded


class IncidentService(Interventions):
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

    def complete_task(self, actor: Actor, incident_id: int, task_id: str, data: Mapping[str, Any]) -> None:
        with self._unit(actor, incident_id) as unit:
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
                .options(NO_VERSION_ROW)
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

    # ------------------------------------------------------------------ internals

    def _start(
        self,
        session: Session,
        actor: Actor,
        fields: dict[str, Any],
        requester_id: int | None,
        registration: Mapping[str, Any] | None,
        parent_id: int | None = None,
    ) -> int:
        version = versions.latest(session)
        if version is None:
            raise ServiceError(N_("No process version has been published yet."))
        ctx = operations.Context(now=self.clock(), settings=self.settings)
        requester = session.get(User, requester_id) if requester_id else None
        if requester_id and not permissions.may_be_requester(requester):  # a follow-up then has none
            if parent_id is None:
                raise InvalidInput({"requester_id": Message(N_("Choose a person with the requester role."))})
            requester = None
        ctx.emit("started", process_version=version.version, parent_id=parent_id, incident=fields)
        run = self._engine(Run.start, self.models.get(version), ctx, {"incident": fields})
        incident = Incident(
            process_version=version,
            status=projection.NEW,
            requester_id=requester.id if requester else None,
            requester_name=projection.fit(Incident.requester_name, fields.get("contact")),
            created_by_id=actor.user_id,
            created_at=ctx.now,
            parent_id=parent_id,
        )
        projection.apply_incident_fields(incident, fields)
        incident.requester_name = requester.display_name if requester else incident.requester_name
        session.add(incident)
        session.flush()
        unit = _Unit(session, incident, run, ctx, actor, system_until=0, stored=None)
        if registration is not None:
            start_form = run.ready_tasks()[0]
            lane = LANES[start_form.lane]
            if not actor.roles & task_roles(start_form.spec_id, lane.candidate_role(start_form.data)):
                raise PermissionDenied(N_("Only the service desk or first line can register incidents."))
            self._complete(unit, start_form, registration)
        self._save(unit)
        return incident.id

    @contextmanager
    def _unit(self, actor: Actor, incident_id: int) -> Iterator[_Unit]:
        with self._transaction() as session:
            incident, stored = self._locked_with_state(session, incident_id)
            unit = self._load(session, incident, actor, stored)
            yield unit
            self._save(unit)

    def _locked_incident(self, session: Session, incident_id: int) -> Incident:
        """Writers lock the incident row first (then the audit head), so they queue instead of deadlocking."""
        query = select(Incident).options(NO_VERSION_ROW).where(Incident.id == incident_id)
        incident = session.scalar(query.with_for_update(of=Incident))
        if incident is None:
            raise NotFound(N_("There is no such incident."))
        return incident

    def _locked_with_state(self, session: Session, incident_id: int) -> tuple[Incident, IncidentState]:
        """The incident row locked as in `_locked_incident`, with its engine state, in one round trip.

        Both rows are locked: a writer that waited for the lock then reads the rows as the previous
        writer left them (PostgreSQL re-reads only the locked rows of a join once the lock is granted;
        an unlocked state row would come from before that commit, and the action would be applied
        twice). The open-task rows are read by the next statement, after the lock, for the same reason.
        """
        query = (
            select(Incident, IncidentState)
            .join(IncidentState, IncidentState.incident_id == Incident.id)
            .options(NO_VERSION_ROW)
            .where(Incident.id == incident_id)
            .with_for_update(of=(Incident, IncidentState))
        )
        found = session.execute(query).first()
        if found is None:
            raise NotFound(N_("There is no such incident."))
        return found[0], found[1]

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A write transaction in which losing an optimistic-lock race is a Conflict for the user."""
        try:
            with self.db.transaction() as session:
                yield session
        except StaleDataError:
            raise Conflict(N_("Someone else has just changed this incident. Reload the page and try again.")) from None

    def _load(self, session: Session, incident: Incident, actor: Actor, stored: IncidentState | None = None) -> _Unit:
        ctx = operations.Context(now=self.clock(), settings=self.settings, raised_at=incident.created_at)
        stored = stored or state.read(session, incident.id)
        run = Run.load(self._model(session, incident.process_version_id), state.decode(stored.state), ctx)
        self._engine(run.advance)  # timers that fell due fire before anything else happens
        return _Unit(session, incident, run, ctx, actor, len(ctx.events), stored, _assignees(incident))

    def _model(self, session: Session, version_id: int) -> ProcessModel:
        return self.models.get_by_id(session, version_id)

    def _validate(self, schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return forms.validate(schema, data)
        except FormErrors as error:
            raise InvalidInput(error.errors) from None

    def _complete(self, unit: _Unit, task: ReadyTask, data: Mapping[str, Any]) -> None:
        schema, _ = unit.run.model.form(task.spec_id)
        clean = self._validate(schema, data)
        if refused := notification.refused_waiver(task.spec_id, clean, unit.incident.status):
            raise InvalidInput(refused)
        changes = {
            key: {"before": task.data.get(key), "after": value}
            for key, value in clean.items()
            if task.data.get(key) != value
        }
        unit.ctx.emit(
            "task_completed", task_id=task.id, task_name=task.name, spec_id=task.spec_id, data=clean, changes=changes
        )
        self._engine(unit.run.complete, task.id, clean)

    def _signal(self, unit: _Unit, name: str, payload: Mapping[str, Any]) -> None:
        self._engine(unit.run.signal, name, payload)

    def _engine(self, action: Callable[..., Any], *args: Any) -> Any:
        """Run an engine action; its refusals become messages for the user (and roll everything back)."""
        try:
            return action(*args)
        except EngineError as error:
            raise Conflict(error.message) from None
        except SpiffWorkflowException as error:
            cause = error.__cause__
            if isinstance(cause, ValueError):  # facts or parameters the rules refuse
                raise InvalidInput(
                    {"": Message(N_("The facts are not consistent: %(reason)s"), {"reason": _reason(cause)})}
                ) from None
            log.exception("engine error")
            raise ServiceError(N_("The process engine failed: %(error)s"), error=str(error)) from None

    def _save(self, unit: _Unit) -> None:
        session, incident, now = unit.session, unit.incident, unit.ctx.now
        follow_ups: list[str] = []
        entries: list[audit.Entry] = []
        # Everything about the incident is set before the one flush (in the audit append), so its row
        # is updated once per action; the queries below read nothing this action changes.
        with session.no_autoflush:
            for index, event in enumerate(unit.ctx.events):
                actor = SYSTEM if index < unit.system_until else unit.actor
                data = dict(event.data)
                if event.kind == "task_completed" and isinstance(data["data"].get("incident"), Mapping):
                    projection.apply_incident_fields(incident, data["data"]["incident"])
                projection.apply_event(incident, event.kind, data, now)
                if event.kind == "announced":
                    session.add(
                        Announcement(
                            incident_id=incident.id, text=data["text"], published_by=actor.name, published_at=now
                        )
                    )
                elif event.kind == "problem_ticket_requested":
                    title = projection.fit(ProblemTicket.title, data["title"])
                    session.add(
                        ProblemTicket(incident_id=incident.id, title=title, created_by=actor.name, created_at=now)
                    )
                elif event.kind == "follow_up_requested":
                    follow_ups.append(data["title"])
                entries.append(
                    audit.Entry(
                        kind=event.kind,
                        actor=actor,
                        at=now,
                        data={key: value for key, value in data.items() if key not in ("task_id", "task_name")},
                        incident_id=incident.id,
                        task_id=data.get("task_id"),
                        task_name=data.get("task_name"),
                    )
                )
            ready = unit.run.ready_tasks()
            removed = projection.sync_open_tasks(incident, ready, now, self._registration_due(incident))
            entries += assignments.withdrawals(incident, unit.ctx.events, removed, now)
            entries += assignments.after_reopen(session, incident, unit.ctx.events, now)
            state.write(session, unit.stored, incident.id, unit.run.dump())
            incident.next_timer_due = unit.run.next_timer_due()
            incident.updated_at = now
            if _assignees(incident) != unit.assignees:  # the list column changes only with them
                assignments.summarize(session, incident)
        audit.append_all(session, entries)
        session.flush()
        notifications.emit(session, incident, unit.ctx.events, actor=unit.actor, now=now, removed=removed)
        for title in follow_ups:
            self._start_follow_up(session, unit.actor, incident, title)

    def _registration_due(self, incident: Incident) -> datetime | None:
        """When an incident raised in the portal should be registered by (spec §4.3)."""
        if incident.status != projection.NEW:
            return None
        return incident.created_at + timedelta(minutes=self.settings.registration_target_minutes)

    def _start_follow_up(self, session: Session, actor: Actor, original: Incident, title: str) -> None:
        fields = {
            "title": title or f"{original.title}（后续跟踪）",
            "description": f"由 {original.number} 变通解决后触发的后续跟踪事件：{original.title}",
            "source": original.source,
            "system": original.system,
        }
        self._start(session, actor, fields, original.requester_id, None, parent_id=original.id)

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

    def _postpone_timer(self, incident_id: int, now: datetime, message: str) -> None:
        with self.db.transaction() as session:
            incident = session.get(Incident, incident_id)
            incident.next_timer_due = now + TIMER_RETRY
            audit.append(
                session, kind="engine_error", actor=SYSTEM, at=now, data={"error": message}, incident_id=incident_id
            )


def _assignees(incident: Incident) -> frozenset[int]:
    return frozenset(task.assignee_id for task in incident.open_tasks if task.assignee_id)


def _reason(error: ValueError) -> Message | str:
    """What the rules said, in the reader's language where they give a message."""
    return getattr(error, "message", None) or str(error)
