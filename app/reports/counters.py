"""Per-day counters (issue 14): what the period reports add up, kept per local day so that a period
of any length reads one row per day and key, never its incidents or tasks.

An incident contributes *facts*: its resolution (in time or not, and how long after registration),
its closure, its wait for registration, its first handling step, and each completed task of its
roll-up spans (`report_task_spans`). A fact is counted on the local day (Asia/Shanghai, `ZONE`) of
its instant, under the keys the reports filter and break down by: the incident's current type and
level, a group (the resolving support group, the closure code, the completion's roles) and, for
tasks, the person. Durations are counted twice: exact sums (microseconds, integers: adding and
taking away is exact) for the means, and a histogram of the value rounded to the 0.01 h the page
shows for the percentiles and the maximum — exact, since rounding is monotonic: the rounded
nearest-rank value is the nearest-rank value rounded (docs/reports.md).

The counters are a function of the incident row, its roll-up rows and whether it is a child of a
major incident, so they are kept by recomputing an incident's contributions whenever one of those
changes (session listeners, once per transaction at commit, whoever changed it) and applying the
difference from what it contributed before (`report_incident_counts` keeps that per incident).
`rebuild` writes them all again (migration 0021, `flask reports rebuild`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, event, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.links.models import PART_OF, IncidentLink
from app.models import Incident
from app.reports.filters import NONE, SHANGHAI, key_or_none, support_group
from app.reports.models import FIRST_STEP, ReportDayCount, ReportEvent, ReportIncidentCounts, ReportTaskSpan

ZONE = SHANGHAI  # the days counters are cut in (docs/reports.md: days are Beijing time)
TOTAL = -1  # the `bucket` of a key's totals row; histogram rows have bucket ≥ 0

# metrics
RESOLVED = "resolved"  # n, timely (resolved in time); every resolution
RESOLUTION_TIME = "resolution_time"  # registration → resolution (registered incidents)
CLOSED = "closed"  # group: the closure code
TO_REGISTER = "to_register"  # portal submission → registration (raised in the portal)
TO_REGISTER_SECONDS = "to_register_s"  # the same, histogram in whole seconds (rounded up): "within the target"
TO_FIRST_STEP = "to_first_step"  # raised → first handling step, on the registration day
TASK = "task"  # a completed task: group = roles label, person = actor; us = working, us2 = waiting
DURATIONS = (RESOLUTION_TIME, TO_REGISTER, TO_FIRST_STEP)
MAX_SECONDS_BUCKET = 7 * 86400  # waits for registration longer than a week share one seconds bucket


KEY_COLUMNS = ("metric", "day", "type", "level", "grp", "person", "bucket")
VALUE_COLUMNS = ("n", "timely", "us", "us2")
Key = tuple[str, str, str, str, str, int, int]  # day as ISO text (JSON-friendly)
Values = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Fact:
    metric: str
    at: datetime
    type: str
    level: str
    grp: str = ""
    person: int = 0
    timely: bool = False
    us: int = 0
    us2: int = 0


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What an incident's facts are made of."""

    type: str | None
    level: str | None
    created_at: datetime
    registered_at: datetime | None
    resolved_at: datetime | None
    resolved_in_time: bool | None
    resolved_stage: str | None
    current_group: str | None
    closed_at: datetime | None
    closure_code: str | None
    child: bool = False
    first_step_at: datetime | None = None
    # (completed at, roles, actor id, waiting seconds, working seconds)
    spans: tuple[tuple[datetime, str, int | None, float, float], ...] = ()


def micro(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def centi_hours(us: int) -> int:
    """The duration in hundredths of an hour as the page rounds it (`round(hours, 2)`)."""
    return round(round(us / 1e6 / 3600, 2) * 100)


def seconds_bucket(us: int) -> int:
    return min(MAX_SECONDS_BUCKET, math.ceil(us / 1e6))


def facts(item: IncidentFacts) -> Iterator[Fact]:
    """Every fact of an incident (none for a child of a major incident: it is counted through its parent)."""
    if item.child:
        return
    kind, level = key_or_none(item.type), key_or_none(item.level)
    if item.resolved_at is not None:
        group = support_group(item.resolved_stage, item.current_group) or NONE
        yield Fact(RESOLVED, item.resolved_at, kind, level, group, timely=bool(item.resolved_in_time))
        if item.registered_at is not None:
            us = micro(item.resolved_at - item.registered_at)
            yield Fact(RESOLUTION_TIME, item.resolved_at, kind, level, group, us=us)
    if item.closed_at is not None and item.closure_code is not None:
        yield Fact(CLOSED, item.closed_at, kind, level, item.closure_code)
    if item.registered_at is not None:
        if item.registered_at > item.created_at:
            yield Fact(TO_REGISTER, item.registered_at, kind, level, us=micro(item.registered_at - item.created_at))
        if item.first_step_at is not None:
            yield Fact(TO_FIRST_STEP, item.registered_at, kind, level, us=micro(item.first_step_at - item.created_at))
    for completed_at, roles, actor_id, waiting, working in item.spans:
        yield Fact(TASK, completed_at, kind, level, roles, actor_id or 0,
                   us=round(working * 1e6), us2=round(waiting * 1e6))  # fmt: skip


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def counts_of(found: Iterable[Fact]) -> dict[Key, Values]:
    """Facts added up per day and key: a totals row per key, and a histogram bar per duration value."""
    counts: dict[Key, list[int]] = {}

    def add(key: Key, n: int, timely: int, us: int, us2: int) -> None:
        total = counts.setdefault(key, [0, 0, 0, 0])
        total[0] += n
        total[1] += timely
        total[2] += us
        total[3] += us2

    for fact in found:
        day = local_day(fact.at).isoformat()
        head = (day, fact.type, fact.level, fact.grp, fact.person)
        add((fact.metric, *head, TOTAL), 1, int(fact.timely), fact.us, fact.us2)
        if fact.metric in DURATIONS:
            add((fact.metric, *head, centi_hours(fact.us)), 1, 0, 0, 0)
        if fact.metric == TO_REGISTER:
            add((TO_REGISTER_SECONDS, *head, seconds_bucket(fact.us)), 1, 0, 0, 0)
    return {key: tuple(values) for key, values in counts.items()}  # type: ignore[misc]


# ---------------------------------------------------------------------------------- reading incidents


def _first_steps(session: Session, ids: list[int]) -> dict[int, datetime]:
    query = select(ReportEvent.incident_id, ReportEvent.at).where(
        ReportEvent.kind == FIRST_STEP, ReportEvent.incident_id.in_(ids)
    )
    return dict(session.execute(query).all())


def _children(session: Session, ids: list[int]) -> set[int]:
    query = select(IncidentLink.from_id).where(IncidentLink.kind == PART_OF, IncidentLink.from_id.in_(ids))
    return set(session.scalars(query))


def _spans(session: Session, ids: list[int]) -> dict[int, list[tuple]]:
    query = select(
        ReportTaskSpan.incident_id, ReportTaskSpan.completed_at, ReportTaskSpan.roles, ReportTaskSpan.actor_id,
        ReportTaskSpan.waiting_seconds, ReportTaskSpan.working_seconds,
    ).where(ReportTaskSpan.incident_id.in_(ids)).order_by(ReportTaskSpan.audit_id)  # fmt: skip
    spans: dict[int, list[tuple]] = {}
    for incident_id, *span in session.execute(query):
        spans.setdefault(incident_id, []).append(tuple(span))
    return spans


INCIDENT_COLUMNS = (
    Incident.id, Incident.type, Incident.level, Incident.created_at, Incident.registered_at, Incident.resolved_at,
    Incident.resolved_in_time, Incident.resolved_stage, Incident.current_group, Incident.closed_at,
    Incident.closure_code,
)  # fmt: skip


def incident_facts(session: Session, ids: list[int]) -> dict[int, IncidentFacts]:
    """The facts' material of the given incidents, from the database (four queries for any number)."""
    if not ids:
        return {}
    firsts, children, spans = _first_steps(session, ids), _children(session, ids), _spans(session, ids)
    found = {}
    for incident_id, *row in session.execute(select(*INCIDENT_COLUMNS).where(Incident.id.in_(ids))):
        found[incident_id] = IncidentFacts(
            *row, child=incident_id in children, first_step_at=firsts.get(incident_id),
            spans=tuple(spans.get(incident_id, ())),
        )  # fmt: skip
    return found


# ---------------------------------------------------------------------------------- keeping them


def _encode(counts: dict[Key, Values]) -> str:
    return json.dumps(sorted([*key, *values] for key, values in counts.items()), separators=(",", ":"))


def _decode(text: str | None) -> dict[Key, Values]:
    return {} if not text else {tuple(row[:7]): tuple(row[7:]) for row in json.loads(text)}  # type: ignore[misc]


def _row(key: Key, values: Values) -> dict:
    row = dict(zip(KEY_COLUMNS, key, strict=True))
    row["day"] = date.fromisoformat(row["day"])
    return {**row, **dict(zip(VALUE_COLUMNS, values, strict=True))}


def _add(session: Session, deltas: dict[Key, Values]) -> None:
    """Add the deltas to the counters: one upsert per key, in key order (two transactions touching the
    same days take their row locks in the same order: no deadlock)."""
    if not deltas:
        return
    table = ReportDayCount.__table__
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={name: table.c[name] + statement.excluded[name] for name in VALUE_COLUMNS},
    )
    session.execute(statement, [_row(key, deltas[key]) for key in sorted(deltas)])


def refresh(session: Session, ids: Iterable[int]) -> None:
    """Recompute the contributions of these incidents and apply the difference to the counters."""
    ids = sorted(set(ids))
    if not ids:
        return
    table = ReportIncidentCounts.__table__
    before = {i: _decode(text) for i, text in session.execute(select(table.c.incident_id, table.c.counts)
                                                               .where(table.c.incident_id.in_(ids)))}  # fmt: skip
    material = incident_facts(session, ids)
    deltas: dict[Key, list[int]] = {}
    changed: list[dict] = []
    for incident_id in ids:
        old = before.get(incident_id, {})
        new = counts_of(facts(material[incident_id])) if incident_id in material else {}
        if old == new:
            continue
        for key in old.keys() | new.keys():
            a, b = old.get(key, (0, 0, 0, 0)), new.get(key, (0, 0, 0, 0))
            diff = [y - x for x, y in zip(a, b, strict=True)]
            if any(diff):
                total = deltas.setdefault(key, [0, 0, 0, 0])
                for i, value in enumerate(diff):
                    total[i] += value
        changed.append({"incident_id": incident_id, "counts": _encode(new), "known": incident_id in before})
    _add(session, {key: tuple(values) for key, values in deltas.items() if any(values)})  # type: ignore[misc]
    for row in changed:
        if row["known"]:
            session.execute(table.update().where(table.c.incident_id == row["incident_id"]),
                            {"counts": row["counts"]})  # fmt: skip
        else:
            session.execute(insert(table), {"incident_id": row["incident_id"], "counts": row["counts"]})


def rebuild(session: Session, batch: int = 2000) -> int:
    """Write every counter again from the incidents and the roll-up rows; the number of counter rows."""
    session.execute(delete(ReportDayCount))
    session.execute(delete(ReportIncidentCounts))
    ids = sorted(session.scalars(select(Incident.id)))
    totals: dict[Key, list[int]] = {}
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        snapshots = []
        for incident_id, item in incident_facts(session, chunk).items():
            counts = counts_of(facts(item))
            snapshots.append({"incident_id": incident_id, "counts": _encode(counts)})
            for key, values in counts.items():
                total = totals.setdefault(key, [0, 0, 0, 0])
                for i, value in enumerate(values):
                    total[i] += value
        if snapshots:
            session.execute(insert(ReportIncidentCounts), snapshots)
    rows = [_row(key, tuple(values)) for key, values in sorted(totals.items())]  # type: ignore[arg-type]
    for start in range(0, len(rows), 5000):
        session.execute(insert(ReportDayCount), rows[start : start + 5000])
    return len(rows)


# ---------------------------------------------------------------------------------- listeners

TOUCHED = "report_counts_touched"
RELEVANT = frozenset(column.key for column in INCIDENT_COLUMNS) - {"id"}


def _incident_changed(obj: Incident) -> bool:
    from sqlalchemy import inspect

    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in RELEVANT)


@event.listens_for(Session, "before_flush")
def _note(session: Session, _context, _instances) -> None:
    """Note the incidents whose contributions may change in this flush (before it: the attribute
    histories are still there)."""
    touched: set[int] = session.info.setdefault(TOUCHED, set())
    for obj in session.new:
        if isinstance(obj, ReportTaskSpan) or (isinstance(obj, ReportEvent) and obj.kind == FIRST_STEP):
            touched.add(obj.incident_id)
        elif isinstance(obj, IncidentLink) and obj.kind == PART_OF:
            touched.add(obj.from_id)
        elif isinstance(obj, Incident):
            session.info.setdefault(TOUCHED + "_new", []).append(obj)
    for obj in session.deleted:
        if isinstance(obj, IncidentLink) and obj.kind == PART_OF:
            touched.add(obj.from_id)
    for obj in session.dirty:
        if isinstance(obj, Incident) and obj.id is not None and _incident_changed(obj):
            touched.add(obj.id)


@event.listens_for(Session, "before_commit")
def _keep(session: Session) -> None:
    """Flush what is pending (the roll-up rows of the last flush among it), then refresh the counters of
    the incidents touched in the transaction, once each."""
    if TOUCHED not in session.info:
        return
    for _ in range(10):
        if not (session.new or session.dirty or session.deleted):
            break
        session.flush()
    touched = session.info.pop(TOUCHED, set())
    touched.update(obj.id for obj in session.info.pop(TOUCHED + "_new", []) if obj.id is not None)
    refresh(session, touched)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(TOUCHED, None)
    session.info.pop(TOUCHED + "_new", None)
