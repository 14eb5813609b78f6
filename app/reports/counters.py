"""Per-day counters (issue 14): what the period reports add up, kept per local day so that a period
of any length reads one row per day and key, never its incidents or tasks.

An incident contributes *facts*: its resolution (in time or not, and how long after registration),
its closure, its wait for registration, its first handling step, each completed task of its
roll-up spans (`report_task_spans`), and its first-ever deadline breach (under the level breached and
the support group then). A fact is counted on the local day (Asia/Shanghai, `ZONE`) of
its instant, under the keys the reports filter and break down by: the incident's current type and
level, a group (the resolving support group, the closure code, the completion's roles) and, for
tasks, the person. Durations are counted twice: exact sums (microseconds, integers: adding and
taking away is exact) for the means, and a histogram of the value rounded to the 0.01 h the page
shows for the percentiles and the maximum — exact, since rounding is monotonic: the rounded
nearest-rank value is the nearest-rank value rounded (docs/reports.md).

The counters are a function of the incident row, its roll-up rows and whether it is a child of a
major incident, so they are kept by recomputing an incident's contributions whenever one of those
changes (`app.reports.keeping`: once per transaction at commit, whoever changed it) and applying
the difference from what it contributed before (`report_incident_counts` keeps that per incident).
`rebuild` writes them all again (migrations 0022 and 0034, `flask reports rebuild`). Each day's counters are
added up per month as well (`report_month_counts`, in the same upsert): a year reads twelve months.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Date, cast, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from app import writes
from app.links.models import PART_OF, IncidentLink
from app.models import Incident
from app.reports.filters import NONE, SHANGHAI, key_or_none, support_group
from app.reports.models import (
    BREACH,
    CHANGE_WAIT,
    FIRST_STEP,
    ReportDayCount,
    ReportEvent,
    ReportIncidentCounts,
    ReportMonthCount,
    ReportTaskSpan,
)
from app.users import REQUESTER

ZONE = SHANGHAI  # the days counters are cut in (docs/reports.md: days are Beijing time)
TOTAL = -1  # the `bucket` of a key's totals row; histogram rows have bucket ≥ 0

# metrics
RESOLVED = "resolved"  # n, timely (resolved in time); every resolution
RESOLUTION_TIME = "resolution_time"  # registration → resolution (registered incidents)
CLOSED = "closed"  # group: the closure code
TO_REGISTER = "to_register"  # portal submission → registration (raised in the portal)
TO_REGISTER_SECONDS = "to_register_s"  # the same, histogram in whole seconds (rounded up): "within the target"
TO_FIRST_STEP = "to_first_step"  # raised → first handling step, on the registration day
CHANGE_WAITED = "change_wait"  # transfer → the change done (the incident's return), on the return's day
TASK = "task"  # a completed task: group = roles label, person = actor; us = working, us2 = waiting
BREACHED = "breach"  # the incident's first-ever deadline breach: level = the level breached, group = the group then
DURATIONS = (RESOLUTION_TIME, TO_REGISTER, TO_FIRST_STEP, CHANGE_WAITED)
MAX_SECONDS_BUCKET = 7 * 86400  # waits for registration longer than a week share one seconds bucket
NOT_STAFF = ("", REQUESTER)  # roles labels of completions that are not the team's work: not counted


KEY_COLUMNS = ("metric", "day", "type", "level", "grp", "person", "bucket")
MONTH_KEY_COLUMNS = ("metric", "month", *KEY_COLUMNS[2:])
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
    # (completed at as ISO text, roles, actor id, waiting seconds, working seconds), in `_span_order`: the
    # text as stored, so that an incident's hundreds of spans are neither parsed nor formatted again
    # when an action adds one (ISO texts of UTC instants sort as the instants do)
    spans: tuple[tuple[str, str, int | None, float, float], ...] = ()
    waits: tuple[tuple[str, float], ...] = ()  # each wait for a change: (returned at as ISO text, seconds), in order
    # its first-ever deadline breach (the roll-up's breach with `breached_before` false): at as ISO text, the
    # level breached, the support group then
    first_breach: tuple[str, str | None, str] | None = None


def _span_order(span: tuple) -> tuple:
    return (span[0], span[1], span[2] or 0, span[3], span[4])


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
        if not is_staff(roles):  # no report counts them
            continue
        yield Fact(TASK, datetime.fromisoformat(completed_at), kind, level, roles, actor_id or 0,
                   us=round(working * 1e6), us2=round(waiting * 1e6))  # fmt: skip
    for returned_at, seconds in item.waits:
        yield Fact(CHANGE_WAITED, datetime.fromisoformat(returned_at), kind, level, us=round(seconds * 1e6))
    if item.first_breach is not None:
        breached_at, breached, group = item.first_breach
        yield Fact(BREACHED, datetime.fromisoformat(breached_at), kind, key_or_none(breached), group)


def is_staff(roles_label: str | None) -> bool:
    """The team's work, not the requesters': a requester confirming their own incident is not workload."""
    return (roles_label or "") not in NOT_STAFF


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


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


def _events(session: Session, ids: list[int]) -> tuple[dict[int, datetime], dict[int, list[tuple[str, float]]], dict]:
    """The incidents' first handling steps, their waits for a change in order, and their first breaches
    (the first in chain order: the one whose `breached_before` is false, a column this does not read, so
    that migration 0022's rebuild runs before 0039 adds it)."""
    query = (
        select(ReportEvent.incident_id, ReportEvent.kind, ReportEvent.at, ReportEvent.seconds, ReportEvent.level,
               ReportEvent.support_group)
        .where(ReportEvent.kind.in_((FIRST_STEP, CHANGE_WAIT, BREACH)), ReportEvent.incident_id.in_(ids))
        .order_by(ReportEvent.audit_id)
    )  # fmt: skip
    firsts: dict[int, datetime] = {}
    waits: dict[int, list[tuple[str, float]]] = {}
    breaches: dict[int, tuple[str, str | None, str]] = {}
    for incident_id, kind, at, seconds, breached, group in session.execute(query):
        if kind == FIRST_STEP:
            firsts[incident_id] = at
        elif kind == BREACH:
            breaches.setdefault(incident_id, (at.isoformat(), breached, group or NONE))
        else:
            waits.setdefault(incident_id, []).append((at.isoformat(), seconds))
    return firsts, {incident_id: sorted(found) for incident_id, found in waits.items()}, breaches


def _children(session: Session, ids: list[int]) -> set[int]:
    query = select(IncidentLink.from_id).where(IncidentLink.kind == PART_OF, IncidentLink.from_id.in_(ids))
    return set(session.scalars(query))


def _spans(session: Session, ids: list[int]) -> dict[int, list[tuple]]:
    query = select(
        ReportTaskSpan.incident_id, ReportTaskSpan.completed_at, ReportTaskSpan.roles, ReportTaskSpan.actor_id,
        ReportTaskSpan.waiting_seconds, ReportTaskSpan.working_seconds,
    ).where(ReportTaskSpan.incident_id.in_(ids)).order_by(ReportTaskSpan.audit_id)  # fmt: skip
    spans: dict[int, list[tuple]] = {}
    for incident_id, completed_at, *span in session.execute(query):
        spans.setdefault(incident_id, []).append((completed_at.isoformat(), *span))
    return spans


INCIDENT_COLUMNS = (  # what an incident's facts read of it
    Incident.id, Incident.type, Incident.level, Incident.created_at, Incident.registered_at, Incident.resolved_at,
    Incident.resolved_in_time, Incident.resolved_stage, Incident.current_group, Incident.closed_at,
    Incident.closure_code,
)  # fmt: skip


def incident_facts(session: Session, ids: list[int]) -> dict[int, IncidentFacts]:
    """The facts' material of the given incidents, from the database (four queries for any number)."""
    if not ids:
        return {}
    (firsts, waits, breaches), children, spans = _events(session, ids), _children(session, ids), _spans(session, ids)
    found = {}
    for incident_id, *row in session.execute(select(*INCIDENT_COLUMNS).where(Incident.id.in_(ids))):
        found[incident_id] = IncidentFacts(
            *row, child=incident_id in children, first_step_at=firsts.get(incident_id),
            spans=tuple(sorted(spans.get(incident_id, ()), key=_span_order)),
            waits=tuple(waits.get(incident_id, ())), first_breach=breaches.get(incident_id),
        )  # fmt: skip
    return found


# ---------------------------------------------------------------------------------- keeping them


def _dump(item: IncidentFacts) -> str:
    def text(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat()

    values = [item.type, item.level, text(item.created_at), text(item.registered_at), text(item.resolved_at),
              item.resolved_in_time, item.resolved_stage, item.current_group, text(item.closed_at), item.closure_code,
              item.child, text(item.first_step_at), item.spans, item.waits, item.first_breach]  # fmt: skip
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _load(text: str) -> IncidentFacts:
    def moment(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    v = json.loads(text)
    spans, waits, breach = tuple(map(tuple, v[12])), tuple(map(tuple, v[13])), v[14] and tuple(v[14])
    return IncidentFacts(v[0], v[1], moment(v[2]), moment(v[3]), moment(v[4]), v[5], v[6], v[7], moment(v[8]), v[9],
                         v[10], moment(v[11]), spans, waits, breach)  # type: ignore[arg-type]  # fmt: skip


def _row(key: Key, values: Values) -> dict:
    row = dict(zip(KEY_COLUMNS, key, strict=True))
    row["day"] = date.fromisoformat(row["day"])
    return {**row, **dict(zip(VALUE_COLUMNS, values, strict=True))}


def add_deltas(session: Session, deltas: dict[Key, Values]) -> None:
    """Add the deltas to the day counters and to their months': one upsert of every key of each, in key
    order, with the action's other writes when they are batched (app.writes). Both upserts always go in
    one batched statement, alone when no batch is open: two transactions touching the same days then take
    their row locks in the same order, whichever path writes them (PostgreSQL runs a statement's CTEs in
    an order of its own, so the days then the months in two statements would lock in another: deadlock)."""
    rows = [_row(key, deltas[key]) for key in sorted(deltas)]
    months: dict[tuple, list[int]] = {}
    for row in rows:
        total = months.setdefault((row["metric"], month_of(row["day"]), *(row[c] for c in KEY_COLUMNS[2:])), [0] * 4)
        for i, column in enumerate(VALUE_COLUMNS):
            total[i] += row[column]
    month_rows = [
        dict(zip((*MONTH_KEY_COLUMNS, *VALUE_COLUMNS), (*key, *values), strict=True))
        for key, values in sorted(months.items()) if any(values)
    ]  # fmt: skip
    with writes.batched(session):
        writes.add_rows(session, ReportDayCount.__table__, rows, key=KEY_COLUMNS, summed=VALUE_COLUMNS)
        writes.add_rows(session, ReportMonthCount.__table__, month_rows, key=MONTH_KEY_COLUMNS, summed=VALUE_COLUMNS)


@dataclass
class Change:
    """What a transaction added to an incident's material besides its row: completed tasks' spans, its
    first handling step, waits for a change, becoming (True) or ceasing to be (False) a child of a major
    incident, its first breach."""

    spans: list[tuple] = field(default_factory=list)
    first_step_at: datetime | None = None
    child: bool | None = None
    waits: list[tuple[str, float]] = field(default_factory=list)
    first_breach: tuple[str, str | None, str] | None = None


def _current(session: Session, incident_id: int, old: IncidentFacts | None, change: Change) -> IncidentFacts | None:
    """The incident's material now: its row as this session holds it (the row as before when this
    session did not load it), and the old material with the transaction's additions."""
    loaded = session.identity_map.get(session.identity_key(Incident, incident_id))
    if loaded is None and old is None:
        return None
    row = (
        [getattr(loaded, column.key) for column in INCIDENT_COLUMNS[1:]]
        if loaded is not None
        else [getattr(old, name) for name in IncidentFacts.__dataclass_fields__][:10]
    )
    spans = old.spans if old else ()
    added = sorted(change.spans, key=_span_order)
    if added and spans and _span_order(added[0]) < _span_order(spans[-1]):
        spans = tuple(sorted((*spans, *added), key=_span_order))
    else:  # the usual case: the new spans come after those before (the list stays in order untouched)
        spans = (*spans, *added)
    first = change.first_step_at or (old.first_step_at if old else None)
    child = change.child if change.child is not None else (old.child if old else False)
    waits = tuple(sorted((*(old.waits if old else ()), *change.waits)))
    breach = change.first_breach or (old.first_breach if old else None)
    return IncidentFacts(*row, child=child, first_step_at=first, spans=spans, waits=waits, first_breach=breach)


READ = "report_counts_read"  # in a session's `info`: incident id → its stored material (None: none), read ahead


def read_ahead(session: Session, incident_id: int, material: str | None) -> None:
    """The incident's stored material as read by this transaction with another of its reads (the report
    roll-ups' memory): `refresh` does not read it again. Only the incident's writer, who holds its lock."""
    session.info.setdefault(READ, {})[incident_id] = material


def refresh(session: Session, changes: dict[int, Change]) -> None:
    """Recompute the contributions of these incidents and apply the difference to the counters: one read
    of what they contributed before (none when read ahead), one upsert, one write each (their rows are in
    the session; an incident without stored material is read from the database)."""
    ids = sorted(changes)
    read_before = session.info.pop(READ, {})
    if not ids:
        return
    table = ReportIncidentCounts.__table__
    before = {i: _load(read_before[i]) for i in ids if read_before.get(i) is not None}
    if to_read := [i for i in ids if i not in read_before]:
        query = select(table.c.incident_id, table.c.material).where(table.c.incident_id.in_(to_read))
        before.update((incident_id, _load(text)) for incident_id, text in session.execute(query))
    unknown = [i for i in ids if i not in before]
    read = incident_facts(session, unknown) if unknown else {}
    deltas: dict[Key, list[int]] = {}
    written: list[tuple[int, str]] = []
    for incident_id in ids:
        old = before.get(incident_id)
        now = read.get(incident_id) or _current(session, incident_id, old, changes[incident_id])
        if now is None or now == old:
            continue
        if old is not None and (old.type, old.level, old.child) == (now.type, now.level, now.child):
            # its spans counted before stay under the same keys: only the new ones are counted (an
            # action's cost does not grow with the incident's history)
            was = counts_of(facts(replace(old, spans=())))
            new = counts_of(facts(replace(now, spans=tuple(changes[incident_id].spans))))
        else:
            was, new = (counts_of(facts(old)) if old else {}), counts_of(facts(now))
        for key in was.keys() | new.keys():
            a, b = was.get(key, (0, 0, 0, 0)), new.get(key, (0, 0, 0, 0))
            if a != b:
                total = deltas.setdefault(key, [0, 0, 0, 0])
                for i, (x, y) in enumerate(zip(a, b, strict=True)):
                    total[i] += y - x
        written.append((incident_id, _dump(now)))
    add_deltas(session, {key: tuple(values) for key, values in deltas.items() if any(values)})  # type: ignore[misc]
    for incident_id, material in written:
        writes.upsert_row(session, table, {"incident_id": incident_id}, {"material": material})


def rebuild(session: Session) -> int:
    """Write every counter again from the incidents and the roll-up rows; the number of day counter rows."""
    written = rebuild_days(session)
    rebuild_months(session)
    return written


def rebuild_months(session: Session) -> None:
    """Write the month counters again from the day counters (migration 0034 too)."""
    session.execute(delete(ReportMonthCount))
    day = ReportDayCount.day
    month = (
        cast(func.date_trunc("month", day), Date)
        if session.get_bind().dialect.name == "postgresql"
        else func.date(day, "start of month")
    )
    keys = [ReportDayCount.metric, month, *(getattr(ReportDayCount, column) for column in KEY_COLUMNS[2:])]
    sums = [func.sum(getattr(ReportDayCount, column)) for column in VALUE_COLUMNS]
    query = select(*keys, *sums).group_by(*keys).having(or_(*(sum_ != 0 for sum_ in sums)))
    session.execute(insert(ReportMonthCount).from_select([*MONTH_KEY_COLUMNS, *VALUE_COLUMNS], query))


def rebuild_days(session: Session, batch: int = 2000) -> int:
    """The day counters (and what each incident contributes) written again; the number of counter rows."""
    session.execute(delete(ReportDayCount))
    session.execute(delete(ReportIncidentCounts))
    ids = sorted(session.scalars(select(Incident.id)))
    totals: dict[Key, list[int]] = {}
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        snapshots = []
        for incident_id, item in incident_facts(session, chunk).items():
            counts = counts_of(facts(item))
            snapshots.append({"incident_id": incident_id, "material": _dump(item)})
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
