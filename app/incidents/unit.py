"""The unit of work behind every action on an incident (IncidentService inherits it).

Each action is one transaction that loads the instance once, fires timers that fell due, applies
the action through the engine, and saves once: the engine state (one row of incident_states, read
once and written once), the indexed columns (one UPDATE of the incident row), the open-task rows
and the audit rows are committed together or not at all. Two actions on the same
instance at once: one wins, the other gets `Conflict` (optimistic lock on the incident row).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import Select, bindparam, inspect, literal, select, true
from sqlalchemy.orm import Session, defaultload, lazyload, raiseload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app import audit, forms, notifications, writes
from app.audit import SYSTEM, Actor
from app.db import Database
from app.engine import operations
from app.engine.lanes import LANES, task_roles
from app.engine.model import ProcessModel
from app.engine.runtime import EngineError, ReadyTask, Run
from app.forms import FormErrors
from app.incidents import assignments, notification, permissions, projection, state
from app.incidents.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.messages import N_, Message
from app.models import Announcement, Incident, IncidentState, OpenTask, ProblemTicket, User
from app.process import versions

log = logging.getLogger(__name__)

# An action needs the version's parsed model (cached by id), never the version row with its diagram;
# and its open tasks' assignee ids, not their accounts (joined, with each account's roles, for pages).
ACTION_LOADING = (raiseload(Incident.process_version), defaultload(Incident.open_tasks).lazyload(OpenTask.assignee))
# Built once: building a statement and working out its cache key cost more CPU than running it.
_LOCKED = (
    select(Incident)
    .options(*ACTION_LOADING)
    .where(Incident.id == bindparam("incident_id"))
    .with_for_update(of=Incident)
)
_LOCKED_WITH_STATE = (
    select(Incident, IncidentState.state)
    .join(IncidentState, IncidentState.incident_id == Incident.id)
    .options(*ACTION_LOADING)
    .where(Incident.id == bindparam("incident_id"))
    .with_for_update(of=(Incident, IncidentState))
)
# PostgreSQL: an action's open tasks (read after the incident's lock, which guards them) and its audit
# chain locked with its head, the ids of the rows it will append and what the audit's followers read of
# the incident with them (`audit.read_with_head`), in one round trip; a row even when there are no tasks.
_ONE = select(literal(1).label("one")).subquery("one")


@functools.cache
def _tasks_and_head_query(reads: tuple[audit.HeadRead, ...]) -> Select:
    head = audit.LOCKED_HEAD
    return (
        select(OpenTask, head.c.seq, head.c.hash, head.c.ids, *(column for read in reads for column in read.columns))
        .select_from(_ONE)
        .outerjoin(head, true())
        .outerjoin(OpenTask, OpenTask.incident_id == bindparam("incident_id"))
        .options(lazyload(OpenTask.assignee))
        .order_by(OpenTask.created_at)
    )


@dataclass
class _Unit:
    """One action on one instance, inside one transaction."""

    session: Session
    incident: Incident
    run: Run
    ctx: operations.Context
    actor: Actor
    system_until: int  # events before this index came from timers, not from the actor
    new: bool  # a new incident: its state is inserted, not updated
    assignees: frozenset[int] = frozenset()  # who held the open tasks when it was loaded


# What a capability beside the process settles when an incident has ended (closed, withdrawn, a
# duplicate): given the session, the incident and the time, it changes its own rows and returns their
# audit entries, saved with the action that ended it. A capability above this package registers its
# hook when it is imported (`when_ended`), so the incidents never import it.
EndingHook = Callable[[Session, Incident, datetime], list[audit.Entry]]
_ending_hooks: list[EndingHook] = []


def when_ended(hook: EndingHook) -> None:
    """Call `hook` in every action that leaves an incident ended (once, however often registered)."""
    if hook not in _ending_hooks:
        _ending_hooks.append(hook)


class UnitOfWork:
    """Loading, acting through the engine and saving, shared by every action of IncidentService."""

    db: Database  # set by IncidentService
    clock: Callable[[], datetime]
    settings: operations.Settings
    models: versions.ModelCache

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
        unit = _Unit(session, incident, run, ctx, actor, system_until=0, new=True)
        if registration is not None:
            start_form = run.ready_tasks()[0]
            lane = LANES[start_form.lane]
            if not actor.roles & task_roles(start_form.spec_id, lane.candidate_role(start_form.data)):
                raise PermissionDenied(N_("Only the service desk or first line can register incidents."))
            self._complete(unit, start_form, registration)
        self._save(unit)
        return incident.id

    @contextmanager
    def _unit(self, actor: Actor, incident_id: int, *, holders: bool = False) -> Iterator[_Unit]:
        """One action; with `holders`, its open tasks hold their holders' accounts after the commit too."""
        with self._transaction() as session:
            incident, stored = self._locked_with_state(session, incident_id)
            unit = self._load(session, incident, actor, stored)
            yield unit
            self._save(unit)
            if holders:
                assignments.load_holders(session, incident)

    def _locked_incident(self, session: Session, incident_id: int) -> Incident:
        """Writers lock the incident row first (then the audit head), so they queue instead of deadlocking."""
        incident = session.scalar(_LOCKED, {"incident_id": incident_id})
        if incident is None:
            raise NotFound(N_("There is no such incident."))
        return incident

    def _locked_with_state(self, session: Session, incident_id: int) -> tuple[Incident, bytes]:
        """The incident row locked as in `_locked_incident`, with its engine state, in one round trip.

        Both rows are locked: a writer that waited for the lock then reads the rows as the previous
        writer left them (PostgreSQL re-reads only the locked rows of a join once the lock is granted;
        an unlocked state row would come from before that commit, and the action would be applied
        twice). The open-task rows are read by the next statement, after the lock, for the same reason.
        """
        found = session.execute(_LOCKED_WITH_STATE, {"incident_id": incident_id}).first()
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

    def _load(self, session: Session, incident: Incident, actor: Actor, stored: bytes | None = None) -> _Unit:
        ctx = operations.Context(now=self.clock(), settings=self.settings, raised_at=incident.created_at)
        stored = stored or state.read(session, incident.id).state
        self._open_tasks_and_head(session, incident)
        run = Run.load(self._model(session, incident.process_version_id), state.decode(stored), ctx)
        self._engine(run.advance)  # timers that fell due fire before anything else happens
        return _Unit(session, incident, run, ctx, actor, len(ctx.events), False, _assignees(incident))

    def _open_tasks_and_head(self, session: Session, incident: Incident) -> None:
        """On PostgreSQL, the incident's open tasks read with its audit chain's lock, head and reserved ids
        (which the action's audit rows then need no round trip for) and the followers' reads; elsewhere
        the tasks load when first used."""
        if not self.db.is_postgresql:
            return
        chain, reads = audit.incident_chain(incident.id), audit.head_reads()
        params = {"incident_id": incident.id, **audit.locked_head_params(chain)}
        rows = session.execute(_tasks_and_head_query(reads), params).all()
        set_committed_value(incident, "open_tasks", [row[0] for row in rows if row[0] is not None])
        _task, seq, hash_, ids, *read = rows[0]
        audit.hold_head(session, chain, seq, hash_, ids)
        audit.keep_head_reads(session, incident.id, reads, tuple(read))

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
        # The writes nothing reads back before the commit (the state, search texts, roll-ups,
        # notifications) go to the database together at the end (app.writes).
        with writes.batched(unit.session):
            follow_ups = self._write(unit)
        for title in follow_ups:
            self._start_follow_up(unit.session, unit.actor, unit.incident, title)

    def _write(self, unit: _Unit) -> list[str]:
        """Write the action's effects; returns the titles of the follow-up incidents it asks for."""
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
                if event.kind == "resolved":
                    incident.resolver_id = actor.user_id
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
            if incident.status not in projection.ACTIVE_STATUSES:
                for hook in _ending_hooks:
                    entries += hook(session, incident, now)
            state.write(session, incident.id, unit.run.dump(), new=unit.new)
            incident.next_timer_due = unit.run.next_timer_due()
            incident.updated_at = now
            if _assignees(incident) != unit.assignees:
                assignments.summarize(session, incident)
            _write_rows(session, incident, removed)
        audit.append_all(session, entries)
        session.flush()
        notifications.emit(session, incident, unit.ctx.events, actor=unit.actor, now=now, removed=removed)
        return follow_ups

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


def _write_rows(session: Session, incident: Incident, removed: list[OpenTask]) -> None:
    """The incident row and its open-task rows go with the action's batch of writes (app.writes), not
    the ORM's flush: nothing in the action reads them back from the database (the audit rows, roll-ups
    and notifications read these objects), and on PostgreSQL that is three round trips fewer."""
    tasks = list(incident.open_tasks)
    new = [task for task in tasks if inspect(task).pending]
    writes.write_objects(session, [incident], (), ())  # its list of open tasks held as it is now
    gone = [task for task in removed if inspect(task).persistent]
    writes.write_objects(session, [task for task in tasks if task not in new], new, gone)


def _assignees(incident: Incident) -> frozenset[int]:
    return frozenset(task.assignee_id for task in incident.open_tasks if task.assignee_id)


def _reason(error: ValueError) -> Message | str:
    """What the rules said, in the reader's language where they give a message."""
    return getattr(error, "message", None) or str(error)
