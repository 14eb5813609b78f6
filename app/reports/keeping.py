"""The one place the report roll-ups that follow the incidents are kept, in the transaction of the
action, whoever acts (the service, the timer sweep, the API, the links): at commit, the per-day
counters of every incident whose facts may have changed (`app.reports.counters`). The roll-ups that
follow the audit rows are kept by `app.reports.rollup` as the rows are written."""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app import writes
from app.links.models import PART_OF, IncidentLink
from app.models import Incident
from app.reports import counters
from app.reports.filters import NONE
from app.reports.models import BREACH, CHANGE_WAIT, FIRST_STEP, ReportEvent, ReportTaskSpan

COUNTED = "report_counts_changes"  # incident id → what changed of its material besides its row
NEW = "report_new_incidents"  # incidents created in the transaction (their ids come with the flush)
FACT_COLUMNS = frozenset(column.key for column in counters.INCIDENT_COLUMNS) - {"id"}


def _changed(obj: Incident, names: frozenset[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _changes(session: Session) -> dict[int, counters.Change]:
    return session.info.setdefault(COUNTED, {})


@event.listens_for(Session, "before_flush")
def _note(session: Session, _context, _instances) -> None:
    """Note what this flush changes (before it: the attribute histories are still there)."""
    changes = _changes(session)
    for obj in session.new:
        if isinstance(obj, IncidentLink) and obj.kind == PART_OF:
            changes.setdefault(obj.from_id, counters.Change()).child = True
        elif isinstance(obj, Incident):
            session.info.setdefault(NEW, []).append(obj)
    for obj in session.deleted:
        if isinstance(obj, IncidentLink) and obj.kind == PART_OF:
            changes.setdefault(obj.from_id, counters.Change()).child = False
    for obj in session.dirty:
        _note_changed(session, obj)


@writes.before_object_written
def _note_changed(session: Session, obj: object) -> None:
    """An incident whose facts' columns change, in a flush or past it (app.writes.write_objects)."""
    if isinstance(obj, Incident) and obj.id is not None and _changed(obj, FACT_COLUMNS):
        _changes(session).setdefault(obj.id, counters.Change())


def note_roll_ups(session: Session, facts: list[ReportTaskSpan | ReportEvent]) -> None:
    """The roll-up rows `app.reports.rollup` writes for new audit rows (past the ORM, so `_note` never
    sees them): the counters of their incidents are refreshed at commit."""
    changes = _changes(session)
    for obj in facts:
        if isinstance(obj, ReportTaskSpan):
            span = (obj.completed_at.isoformat(), obj.roles, obj.actor_id, obj.waiting_seconds, obj.working_seconds)
            changes.setdefault(obj.incident_id, counters.Change()).spans.append(span)
        elif obj.kind == FIRST_STEP:
            changes.setdefault(obj.incident_id, counters.Change()).first_step_at = obj.at
        elif obj.kind == CHANGE_WAIT:
            changes.setdefault(obj.incident_id, counters.Change()).waits.append((obj.at.isoformat(), obj.seconds))
        elif obj.kind == BREACH and not obj.breached_before:
            breach = (obj.at.isoformat(), obj.level, obj.support_group or NONE)
            changes.setdefault(obj.incident_id, counters.Change()).first_breach = breach


def _flush(session: Session) -> None:
    for _ in range(10):
        if not (session.new or session.dirty or session.deleted):
            break
        session.flush()


@writes.at_batch_end
def _keep_read_ahead(session: Session) -> None:
    """At the end of an action's batch of writes (app.writes), whose writes the counters' then join:
    the incidents whose stored material the roll-ups read ahead (`counters.read_ahead`). The others wait
    for the commit: working theirs out reads their roll-up rows, which this batch still holds back."""
    if COUNTED not in session.info:
        return
    _flush(session)
    read, changes = session.info.get(counters.READ, {}), session.info[COUNTED]
    counters.refresh(session, {i: changes.pop(i) for i in list(changes) if read.get(i) is not None})


@event.listens_for(Session, "before_commit")
def _keep(session: Session) -> None:
    """Flush what is pending, then refresh the counters of the incidents noted in the transaction (and
    not yet at the end of its batch), once each."""
    if COUNTED not in session.info:
        return
    _flush(session)
    changes = session.info.pop(COUNTED, {})
    created = {obj.id for obj in session.info.pop(NEW, []) if obj.id is not None}
    for incident_id in created:
        changes.setdefault(incident_id, counters.Change())
    counters.refresh(session, changes)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for name in (COUNTED, NEW, counters.READ):
        session.info.pop(name, None)
