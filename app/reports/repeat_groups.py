"""Repeat groups computed by the database (issue 14): the rule and the groups of `app.reports.repeats`,
without reading the incidents of the period into the application.

The database cuts the candidates into *runs* — in each partition where links depend on titles and
times only ((type, category) at 0.5; (type, system) at 0.5; (type, category, system) at 0.3), the
incidents of one normalized title each within the window of the next (window functions) — and
hands back one row per run, plus the distinct pairs of runs an incident belongs to in two
partitions. The application links runs of similar titles (`report_repeat_similar`) that come within
the window of each other, and joins runs sharing an incident: the groups are the components. Every
incident is in exactly one (type, category) run, so a group's size and dates are those runs'. The
incidents themselves are read only for the groups shown (their first ones) and for the CSV.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Interval,
    String,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.models import Incident, ProblemTicket, UtcDateTime
from app.reports.filters import SHANGHAI, ReportFilter
from app.reports.models import RepeatKey, RepeatSimilar
from app.reports.repeats import (
    SIMILAR,
    SIMILAR_SAME_SYSTEM,
    TITLE_LIMIT,
    WINDOW,
    RepeatCandidate,
    RepeatRow,
    _link_runs,
    candidates,
)

# partition number → (threshold, key columns of the candidates, needs a system)
PARTITIONS = {1: (SIMILAR, ("type", "category"), False), 2: (SIMILAR, ("type", "system"), True),
              3: (SIMILAR_SAME_SYSTEM, ("type", "category", "system"), True)}  # fmt: skip
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


@dataclass
class Run:
    rep: int  # its first incident (by registration time, then id)
    partition: int
    title_id: int
    key: tuple
    start: datetime
    end: datetime
    count: int = 0
    ticket: bool = False


@dataclass
class Group:
    """A repeat group as the page shows it, without its incidents."""

    runs: list[int]  # its (type, category) runs
    size: int
    first_at: datetime
    first_id: int
    last_at: datetime
    has_problem_ticket: bool
    suggested_title: str = ""
    incidents: list[RepeatCandidate] = field(default_factory=list)  # the first ones (`head`)
    latest: RepeatCandidate | None = None
    ids: list[int] = field(default_factory=list)  # all, when asked for


def _within(session: Session, later, earlier, window: timedelta) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return later - earlier <= literal(window, Interval())
    # SQLite's day numbers are floating point: a millisecond of slack at the window's edge
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0 <= window.total_seconds() + 0.001


def _candidates(flt: ReportFilter):
    has_ticket = exists().where(ProblemTicket.incident_id == Incident.id)
    return (
        select(
            Incident.id.label("id"),
            Incident.registered_at.label("at"),
            Incident.type.label("type"),
            Incident.fault_category.label("category"),
            RepeatKey.system.label("system"),
            RepeatKey.title_id.label("title_id"),
            case((has_ticket, 1), else_=0).label("ticket"),
        )
        .join(RepeatKey, RepeatKey.incident_id == Incident.id)
        .where(*candidates(flt), RepeatKey.title_id.is_not(None))  # an empty title is similar to nothing
        .cte("candidates")
    )


def _runs_of(session: Session, c, number: int, window: timedelta):
    """Per candidate of partition `number`: the first incident of its run (`rep`)."""
    _, names, needs_system = PARTITIONS[number]
    source = select(c).where(c.c.system.is_not(None)) if needs_system else select(c)
    base = source.subquery()
    keys = [base.c[name] for name in names] + [base.c.title_id]
    previous = func.lag(base.c.at).over(partition_by=keys, order_by=(base.c.at, base.c.id))
    starts = select(base, case((_within(session, base.c.at, previous, window), 0), else_=1).label("starts")).subquery()
    keys = [starts.c[name] for name in names] + [starts.c.title_id]
    numbered = select(
        starts,
        func.sum(starts.c.starts).over(partition_by=keys, order_by=(starts.c.at, starts.c.id)).label("run"),
    ).subquery()
    keys = [numbered.c[name] for name in names] + [numbered.c.title_id, numbered.c.run]
    return select(
        numbered.c.id, numbered.c.at, numbered.c.title_id, numbered.c.ticket,
        *(numbered.c[name] for name in ("type", "category", "system")),
        func.first_value(numbered.c.id).over(partition_by=keys, order_by=(numbered.c.at, numbered.c.id)).label("rep"),
    ).subquery(f"p{number}")  # fmt: skip


def _run_rows(session: Session, flt: ReportFilter, window: timedelta):
    """One row per run (kind 1–3: its partition) and per pair of runs sharing an incident (kind 0)."""
    c = _candidates(flt)
    parts = {number: _runs_of(session, c, number, window) for number in PARTITIONS}
    statements = []
    for number, part in parts.items():
        names = PARTITIONS[number][1]
        keys = [part.c[name] if name in names else cast(null(), String) for name in ("type", "category", "system")]
        statements.append(
            select(
                literal(number).label("kind"), part.c.rep, cast(null(), Integer).label("other"), part.c.title_id, *keys,
                func.min(part.c.at).label("start"), func.max(part.c.at).label("end"), func.count().label("n"),
                func.max(part.c.ticket).label("ticket"),
            ).group_by(part.c.rep, part.c.title_id, *(part.c[name] for name in names))
        )  # fmt: skip
    one = parts[1]
    for number in (2, 3):
        other = parts[number]
        statements.append(
            select(
                literal(0),
                one.c.rep,
                other.c.rep,
                cast(null(), Integer),
                *(cast(null(), String) for _ in range(3)),
                cast(null(), UtcDateTime),
                cast(null(), UtcDateTime),
                cast(null(), Integer),
                cast(null(), Integer),
            )
            .join_from(one, other, one.c.id == other.c.id)
            .distinct()
        )
    return session.execute(union_all(*statements))


def _micro(moment: datetime) -> int:
    return (moment - EPOCH) // MICRO


def groups(session: Session, flt: ReportFilter, window: timedelta = WINDOW) -> list[Group]:
    """The repeat groups of the period, earliest first, without their incidents (`fill` adds them)."""
    runs: dict[tuple[int, int], Run] = {}
    shared: list[tuple[int, int, int]] = []
    for kind, rep, other, title_id, type_, category, system, start, end, n, ticket in _run_rows(session, flt, window):
        if kind == 0:
            shared.append((rep, other, 0))
            continue
        key = tuple(value for value, name in zip((type_, category, system), ("type", "category", "system"), strict=True)
                    if name in PARTITIONS[kind][1])  # fmt: skip
        runs[(kind, rep)] = Run(rep, kind, title_id, key, start, end, n, bool(ticket))
    parent: dict[tuple[int, int], tuple[int, int]] = {name: name for name in runs}

    def root(name):
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def union(a, b) -> None:
        first, second = root(a), root(b)
        if first != second:
            parent[second] = first

    for one, other, _ in shared:
        for number in (2, 3):
            if (number, other) in runs:
                union((1, one), (number, other))
    _link_similar(session, runs, window, union)
    components: dict[tuple[int, int], list[Run]] = {}
    for name, run in runs.items():
        if run.partition == 1:
            components.setdefault(root(name), []).append(run)
    found = []
    for members in components.values():
        size = sum(run.count for run in members)
        if size < 2:
            continue
        first = min(members, key=lambda run: (run.start, run.rep))
        found.append(Group(
            [run.rep for run in members], size, first.start, first.rep, max(run.end for run in members),
            any(run.ticket for run in members),
        ))  # fmt: skip
    return sorted(found, key=lambda group: (group.first_at, group.first_id))


def _link_similar(session: Session, runs: dict, window: timedelta, union) -> None:
    """Link the runs of similar titles in each partition that come within the window of each other."""
    titles = sorted({run.title_id for run in runs.values()})
    similar: dict[int, list[tuple[int, float]]] = {}
    for start in range(0, len(titles), 1000):
        chunk = titles[start : start + 1000]
        query = select(RepeatSimilar.title_id, RepeatSimilar.other_id, RepeatSimilar.score).where(
            RepeatSimilar.title_id.in_(chunk), RepeatSimilar.title_id < RepeatSimilar.other_id
        )
        for title_id, other_id, score in session.execute(query):
            similar.setdefault(title_id, []).append((other_id, score))
    by_key: dict[tuple, dict[int, list]] = {}
    for (number, rep), run in sorted(runs.items(), key=lambda item: (item[1].start, item[1].rep)):
        by_key.setdefault((number, run.key), {}).setdefault(run.title_id, []).append(
            (_micro(run.start), _micro(run.end), (number, rep))
        )
    limit = window // MICRO
    for (number, _), by_title in by_key.items():
        threshold = PARTITIONS[number][0]
        for title_id, own in by_title.items():
            for other_id, score in similar.get(title_id, ()):
                if score >= threshold and other_id in by_title:
                    _link_runs(own, by_title[other_id], limit, union)


def _members(session: Session, flt: ReportFilter, window: timedelta, reps: list[int], head: int | None):
    """The incidents of the given (type, category) runs, in registration order — the first `head` of
    each run when given (a group's first ones are among its runs' first ones)."""
    c = _candidates(flt)
    part = _runs_of(session, c, 1, window)
    place = func.row_number().over(partition_by=part.c.rep, order_by=(part.c.at, part.c.id))
    last = func.row_number().over(partition_by=part.c.rep, order_by=(part.c.at.desc(), part.c.id.desc()))
    ranked = select(part.c.id, part.c.rep, place.label("place"), last.label("last")).subquery()
    query = (
        select(ranked.c.rep, ranked.c.last, Incident.id, Incident.title, Incident.type, Incident.fault_category,
               Incident.system, Incident.registered_at,
               exists().where(ProblemTicket.incident_id == Incident.id))
        .join(Incident, Incident.id == ranked.c.id)
        .where(ranked.c.rep.in_(reps))
        .order_by(Incident.registered_at, Incident.id)
    )  # fmt: skip
    if head is not None:
        query = query.where((ranked.c.place <= head) | (ranked.c.last == 1))
    for rep, last_place, *row in session.execute(query):
        yield rep, last_place == 1, RepeatCandidate(*row)


def tickets(session: Session, flt: ReportFilter, found: list[Group], window: timedelta = WINDOW) -> dict[int, list]:
    """The problem tickets of each group's incidents (by the group's first run), oldest first."""
    owner = {rep: group for group in found if group.has_problem_ticket for rep in group.runs}
    if not owner:
        return {}
    part = _runs_of(session, _candidates(flt), 1, window)
    query = (
        select(part.c.rep, ProblemTicket)
        .join(ProblemTicket, ProblemTicket.incident_id == part.c.id)
        .where(part.c.rep.in_(sorted(owner)))
        .order_by(ProblemTicket.id)
    )
    found_tickets: dict[int, list] = {}
    for rep, ticket in session.execute(query):
        found_tickets.setdefault(owner[rep].runs[0], []).append(ticket)
    return found_tickets


def _titles(session: Session, flt: ReportFilter, window: timedelta, reps: list[int]) -> dict[int, Counter]:
    """Per (type, category) run: how often each title (trimmed) occurs, and where it first does."""
    c = _candidates(flt)
    part = _runs_of(session, c, 1, window)
    query = (
        select(part.c.rep, Incident.title, func.count(), func.min(part.c.at), func.min(part.c.id))
        .join(Incident, Incident.id == part.c.id)
        .where(part.c.rep.in_(reps))
        .group_by(part.c.rep, Incident.title)
    )
    found: dict[int, list] = {}
    for rep, title, count, first_at, first_id in session.execute(query):
        found.setdefault(rep, []).append((first_at, first_id, title.strip(), count))
    return found


def fill(
    session: Session, flt: ReportFilter, found: list[Group], *, head: int, window: timedelta = WINDOW,
    tz: tzinfo = SHANGHAI, ids_up_to: int = 0,
) -> None:  # fmt: skip
    """Give the groups their first `head` incidents, their latest, their suggested title and — when not
    larger than `ids_up_to` — all their ids."""
    if not found:
        return
    owner = {rep: group for group in found for rep in group.runs}
    for rep, is_last, incident in _members(session, flt, window, sorted(owner), head):
        group = owner[rep]
        if len(group.incidents) < head:
            group.incidents.append(incident)
        if is_last and (group.latest is None or (incident.registered_at, incident.id) >
                        (group.latest.registered_at, group.latest.id)):  # fmt: skip
            group.latest = incident
    name(session, flt, found, window, tz)
    wanted = [rep for group in found if group.size <= ids_up_to for rep in group.runs]
    if wanted:
        for rep, _, incident in _members(session, flt, window, wanted, None):
            owner[rep].ids.append(incident.id)


def name(session: Session, flt: ReportFilter, found: list[Group], window: timedelta, tz: tzinfo) -> None:
    """Each group's suggested problem-ticket title (`repeats.suggested_title`), from its title counts."""
    owner = {rep: group for group in found for rep in group.runs}
    titles = _titles(session, flt, window, sorted(owner)) if owner else {}
    for group in found:
        total: Counter = Counter()
        for _, _, title, count in sorted(entry for rep in group.runs for entry in titles.get(rep, [])):
            total[title] += count  # in order of first occurrence: a tie goes to the earliest title
        title = max(total, key=total.__getitem__)
        first, last = (moment.astimezone(tz).strftime("%m-%d") for moment in (group.first_at, group.last_at))
        span = first if first == last else f"{first} 至 {last}"
        suffix = f"（{group.size} 起，{span}）"
        group.suggested_title = "重复事件：" + title[: TITLE_LIMIT - len("重复事件：") - len(suffix)] + suffix


def rows(session: Session, flt: ReportFilter, window: timedelta = WINDOW, tz: tzinfo = SHANGHAI) -> Iterator[RepeatRow]:
    """Every incident of every group, group by group (the CSV). The incidents are read in one pass and
    kept per group as plain tuples until their group is written."""
    found = groups(session, flt, window)
    if not found:
        return
    name(session, flt, found, window, tz)
    number_of = {rep: number for number, group in enumerate(found, start=1) for rep in group.runs}
    members: dict[int, list[RepeatCandidate]] = {}
    for rep, _, incident in _members(session, flt, window, sorted(number_of), None):
        members.setdefault(number_of[rep], []).append(incident)
    for number, group in enumerate(found, start=1):
        for incident in members.pop(number, []):  # registration order (the query's)
            yield RepeatRow(
                number, group.size, group.suggested_title, group.has_problem_ticket, incident.id, incident.number,
                incident.title, incident.registered_at, incident.has_problem_ticket,
            )  # fmt: skip
