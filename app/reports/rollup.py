"""Keeping the report roll-ups (`app.reports.models`) right: each new audit row that settles a
figure — a task completed, a deadline breach, a reopen, a return from a change, an incident's first
handling step — gets its roll-up row in the same transaction (`app.audit.on_append`, whoever wrote the
row), worked out from the incident's chain up to that row by the same rules the reports always
used (docs/reports.md). `rebuild` writes them all again from the audit log (migration 0018, and
`flask reports rebuild` after a bulk load that bypassed the listeners)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app import writes
from app.audit import on_append
from app.models import AuditEvent
from app.reports import keeping
from app.reports.events import AuditRow, by_incident, select_rows
from app.reports.filters import NONE, REGISTRATION, support_group
from app.reports.models import BREACH, CHANGE_WAIT, FIRST_STEP, REOPEN, ReportEvent, ReportTaskSpan
from app.reports.workload import span_at

HANDLING_STEPS = frozenset(("initial_support", "first_line_handling", "second_line_handling", "coordinate_emergency"))
FIRST_ACTIONS = ("task_claimed", "task_completed")
SETTLING = frozenset((*FIRST_ACTIONS, BREACH, REOPEN, CHANGE_WAIT))  # kinds that may give a roll-up row


def _last(rows: list[AuditRow], index: int, kind: str) -> AuditRow | None:
    return next((row for row in reversed(rows[:index]) if row.kind == kind), None)


def _group_before(rows: list[AuditRow], index: int) -> str:
    """The support group that had the incident just before rows[index] (its last dispatch)."""
    dispatch = _last(rows, index, "dispatched")
    return (support_group(dispatch.stage, dispatch.group) if dispatch else None) or REGISTRATION


def _is_first_step(row: AuditRow) -> bool:
    return row.kind in FIRST_ACTIONS and row.spec_id in HANDLING_STEPS


def facts_at(rows: list[AuditRow], index: int) -> Iterator[ReportTaskSpan | ReportEvent]:
    """The roll-up rows of rows[index], given the incident's chain up to it (`rows`, in chain order)."""
    row = rows[index]

    def event_row(kind: str, **values) -> ReportEvent:
        return ReportEvent(audit_id=row.id, incident_id=row.incident_id, kind=kind, at=row.at, **values)

    if row.kind == "task_completed":
        span = span_at(rows, index)
        yield ReportTaskSpan(
            audit_id=row.id, incident_id=row.incident_id, spec_id=span.spec_id, actor_id=span.actor_id,
            actor_name=span.actor_name, roles=span.roles, ready_at=span.ready_at, taken_at=span.taken_at,
            completed_at=span.completed_at, waiting_seconds=span.waiting_hours * 3600,
            working_seconds=span.working_hours * 3600,
        )  # fmt: skip
    if _is_first_step(row) and not any(_is_first_step(earlier) for earlier in rows[:index]):
        yield event_row(FIRST_STEP)
    if row.kind == BREACH:
        yield event_row(BREACH, level=row.level, support_group=_group_before(rows, index))
    elif row.kind == REOPEN:
        resolution, dispatch = _last(rows, index, "resolved"), _last(rows, index, "dispatched")
        group = NONE if resolution is None else support_group(resolution.stage, dispatch.group if dispatch else None)
        yield event_row(REOPEN, support_group=group or NONE)
    elif row.kind == CHANGE_WAIT:
        # the wait since the transfer it ends (a second return without a new transfer ends none)
        previous = next((r for r in reversed(rows[:index]) if r.kind in ("transferred", CHANGE_WAIT)), None)
        if previous is not None and previous.kind == "transferred":
            yield event_row(CHANGE_WAIT, seconds=(row.at - previous.at).total_seconds())


def facts_of_chain(rows: list[AuditRow]) -> Iterator[ReportTaskSpan | ReportEvent]:
    """Every roll-up row of one incident's chain."""
    for index, row in enumerate(rows):
        if row.kind in SETTLING:
            yield from facts_at(rows, index)


def rebuild(session: Session, batch: int = 1000) -> int:
    """Write every roll-up row again from the audit log, a batch of incidents at a time (bulk inserts,
    one pass over the log); the count written."""
    session.execute(delete(ReportTaskSpan))
    session.execute(delete(ReportEvent))
    incidents = select(AuditEvent.incident_id).where(AuditEvent.kind.in_(SETTLING)).distinct()
    ids = sorted(session.scalars(incidents))
    written = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows: dict[type, list[dict]] = {ReportTaskSpan: [], ReportEvent: []}
        for chain in by_incident(select_rows(session, None, AuditEvent.incident_id.in_(chunk))).values():
            for fact in facts_of_chain(chain):
                rows[type(fact)].append(_values(fact))
        for model, values in rows.items():
            if values:
                session.execute(insert(model), values)
                written += len(values)
    return written


@on_append
def _roll_up(session: Session, appended: list[AuditEvent]) -> None:
    """Read each incident's chain up to its newest new row (one query per incident) and insert the
    roll-up rows (one INSERT per table, with the action's other writes when they are batched,
    app.writes: nothing reads them back in this transaction)."""
    new: dict[int, set[int]] = {}
    for row in appended:
        if row.incident_id is not None and row.kind in SETTLING:
            new.setdefault(row.incident_id, set()).add(row.id)
    facts: list[ReportTaskSpan | ReportEvent] = []
    for incident_id, ids in new.items():
        chain = select_rows(session, None, AuditEvent.incident_id == incident_id, AuditEvent.id <= max(ids))
        for index, row in enumerate(chain):
            if row.id in ids:
                facts.extend(facts_at(chain, index))
    keeping.note_roll_ups(session, facts)  # the per-day counters these rows change, refreshed at commit
    rows: dict[type, list[dict]] = {ReportTaskSpan: [], ReportEvent: []}
    for fact in facts:
        rows[type(fact)].append(_values(fact))
    for model, values in rows.items():
        if values:
            writes.insert_rows(session, model.__table__, values)


def _values(fact: ReportTaskSpan | ReportEvent) -> dict:
    return {column.key: getattr(fact, column.key) for column in type(fact).__table__.columns}
