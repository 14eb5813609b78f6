"""Keeping the report roll-ups (`app.reports.models`) right: each new audit row that settles a
figure — a task completed, a deadline breach, a reopen, a return from a change, an incident's first
handling step — gets its roll-up row in the same transaction (`app.audit.on_append`, whoever wrote the
row), worked out from the incident's chain up to that row by the same rules the reports always
used (docs/reports.md). `rebuild` writes them all again from the audit log (migration 0018, and
`flask reports rebuild` after a bulk load that bypassed the listeners)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import NamedTuple

from sqlalchemy import TableClause, bindparam, column, delete, event, insert, inspect, select, table
from sqlalchemy.orm import Session

from app import writes
from app.audit import on_append, read_with_head
from app.models import AuditEvent, Incident
from app.reports import counters, keeping
from app.reports.events import AuditRow, by_incident, row_of, select_rows
from app.reports.filters import NONE, REGISTRATION, support_group
from app.reports.memory import FIRST_ACTIONS, ChainMemory, is_first_step, report_event, span_row
from app.reports.models import (
    BREACH,
    CHANGE_WAIT,
    FIRST_STEP,
    REOPEN,
    ReportChainMemory,
    ReportEvent,
    ReportIncidentCounts,
    ReportTaskSpan,
)  # fmt: skip
from app.reports.workload import span_at

SETTLING = frozenset((*FIRST_ACTIONS, BREACH, REOPEN, CHANGE_WAIT))  # kinds that may give a roll-up row
_MEMORY = "report_chain_memory"  # in a session's `info`: incident id → its ChainMemory, as this transaction left it


def _last(rows: list[AuditRow], index: int, kind: str) -> AuditRow | None:
    return next((row for row in reversed(rows[:index]) if row.kind == kind), None)


def _group_before(rows: list[AuditRow], index: int) -> str:
    """The support group that had the incident just before rows[index] (its last dispatch)."""
    dispatch = _last(rows, index, "dispatched")
    return (support_group(dispatch.stage, dispatch.group) if dispatch else None) or REGISTRATION


def facts_at(rows: list[AuditRow], index: int) -> Iterator[ReportTaskSpan | ReportEvent]:
    """The roll-up rows of rows[index], given the incident's chain up to it (`rows`, in chain order)."""
    row = rows[index]

    event_row = partial(report_event, row)
    if row.kind == "task_completed":
        yield span_row(row, span_at(rows, index))
    if is_first_step(row) and not any(is_first_step(earlier) for earlier in rows[:index]):
        yield event_row(FIRST_STEP)
    if row.kind == BREACH:
        before = any(earlier.kind == BREACH for earlier in rows[:index])
        yield event_row(BREACH, level=row.level, support_group=_group_before(rows, index), breached_before=before)
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
    written, tables = 0, {model: _as_in_database(session, model) for model in (ReportTaskSpan, ReportEvent)}
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows: dict[type, list[dict]] = {ReportTaskSpan: [], ReportEvent: []}
        for chain in by_incident(select_rows(session, None, AuditEvent.incident_id.in_(chunk))).values():
            for fact in facts_of_chain(chain):
                rows[type(fact)].append(_values(fact))
        for model, values in rows.items():
            if values:
                kept = tables[model].c.keys()
                session.execute(insert(tables[model]), [{key: row[key] for key in kept} for row in values])
                written += len(values)
    return written


def _as_in_database(session: Session, model: type) -> TableClause:
    """`model`'s table with the columns the database has: migration 0018 rebuilds with today's code, before
    later migrations add their columns (and fill them themselves, as 0039 does `breached_before`)."""
    present = {found["name"] for found in inspect(session.connection()).get_columns(model.__tablename__)}
    columns = [column(kept.name, kept.type) for kept in model.__table__.columns if kept.name in present]
    return table(model.__tablename__, *columns)


@on_append
def _roll_up(session: Session, appended: list[AuditEvent]) -> None:
    """Work out the roll-up rows of each incident's new rows from what is remembered of its chain
    (one read of a small row, none for a new incident), and insert them (one INSERT per table, with
    the action's other writes when they are batched, app.writes: nothing reads them back in this
    transaction). An action that gives no roll-up row leaves the memory as it was: the next one
    catches up with the rows in between."""
    chains: dict[int, list[AuditEvent]] = {}
    for row in appended:
        if row.incident_id is not None:
            chains.setdefault(row.incident_id, []).append(row)
    facts: list[ReportTaskSpan | ReportEvent] = []
    for incident_id, rows in chains.items():
        if not any(row.kind in SETTLING for row in rows):
            continue
        memory = _memory(session, incident_id, rows[0])
        for written in rows:
            row = row_of(written)
            if row.kind in SETTLING:
                facts.extend(memory.facts(row))
            memory.fold(row)
        memory.seq = rows[-1].seq
        values = {"seq": memory.seq, "memory": memory.dumps()}
        writes.upsert_row(session, ReportChainMemory.__table__, {"incident_id": incident_id}, values)
    keeping.note_roll_ups(session, facts)  # the per-day counters these rows change, refreshed at commit
    rows: dict[type, list[dict]] = {ReportTaskSpan: [], ReportEvent: []}
    for fact in facts:
        rows[type(fact)].append(_values(fact))
    for model, values in rows.items():
        if values:
            writes.insert_rows(session, model.__table__, values)


# the incident's chain memory, and what its per-day counters are made of, which `keeping` then does
# not read again: one round trip (the incident row, locked by the action, is there to join them on) …
_MEMORY_OF = (
    select(ReportChainMemory.seq, ReportChainMemory.memory, ReportIncidentCounts.material)
    .select_from(Incident)
    .outerjoin(ReportChainMemory, ReportChainMemory.incident_id == Incident.id)
    .outerjoin(ReportIncidentCounts, ReportIncidentCounts.incident_id == Incident.id)
    .where(Incident.id == bindparam("incident_id"))
)
_READ = "report_chain_memory_read"  # in a session's `info`: incident id → the same, read with its audit head


class _Stored(NamedTuple):
    seq: int | None
    memory: str | None
    material: str | None


def _read_with_head(session: Session, incident_id: int, values: tuple) -> None:
    session.info.setdefault(_READ, {})[incident_id] = _Stored(*values)


# … or none, when the action read them with its chain's head (app.audit.read_with_head; on PostgreSQL)
read_with_head(
    tuple(
        select(column).where(column.table.c.incident_id == bindparam("incident_id")).scalar_subquery()
        for column in (ReportChainMemory.seq, ReportChainMemory.memory, ReportIncidentCounts.material)
    ),
    _read_with_head,
)


def _memory(session: Session, incident_id: int, first: AuditEvent) -> ChainMemory:
    """The incident's chain memory folded through the row before `first`: as this transaction left it,
    else as stored, brought up to date from the rows it missed (all of them for an incident that has
    none yet)."""
    kept = session.info.setdefault(_MEMORY, {})
    memory = kept.get(incident_id)
    if memory is None or memory.seq != first.seq - 1:
        stored = _stored(session, incident_id) if first.seq > 1 else None
        if stored is not None:
            counters.read_ahead(session, incident_id, stored.material)
        memory = ChainMemory.loads(stored.memory) if stored is not None and stored.memory else ChainMemory()
        if memory.seq >= first.seq:  # ahead of the chain: never kept by this code; start again
            memory = ChainMemory()
        if memory.seq < first.seq - 1:
            missed = (AuditEvent.chain == first.chain, AuditEvent.seq > memory.seq, AuditEvent.seq < first.seq)
            for row in select_rows(session, None, *missed):
                memory.fold(row)
            memory.seq = first.seq - 1
        kept[incident_id] = memory
    return memory


def _stored(session: Session, incident_id: int) -> _Stored | None:
    if (read := session.info.get(_READ, {}).pop(incident_id, None)) is not None:
        return read
    found = session.execute(_MEMORY_OF, {"incident_id": incident_id}).first()
    return None if found is None else _Stored(*found)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_MEMORY, None)
    session.info.pop(_READ, None)


def _values(fact: ReportTaskSpan | ReportEvent) -> dict:
    return {column.key: getattr(fact, column.key) for column in type(fact).__table__.columns}
