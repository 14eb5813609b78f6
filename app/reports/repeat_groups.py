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
    text,
    union_all,
)
from sqlalchemy.orm import Session

from app.db import NEEDS_TRANSACTION
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
    ).cte(f"p{number}")  # fmt: skip


def _without_jit(session: Session) -> None:
    """PostgreSQL would compile these statements (their estimated cost is high) for longer than they
    run: 0.7 s of a 2 s statement at 100,000 incidents. For the rest of this transaction, it does not."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"), execution_options={NEEDS_TRANSACTION: True})


def _run_rows(session: Session, flt: ReportFilter, window: timedelta, head: int | None):
    """In one statement: a row per run (kind 1–3: its partition), per pair of runs sharing an incident
    (kind 0), per (type, category) run and title with its count (kind 5), and the first `head`
    incidents of each (type, category) run with its last one (kind 4; every incident when `head` is
    None): a group's first incidents are among its runs' first ones."""
    _without_jit(session)
    c = _candidates(flt)
    parts = {number: _runs_of(session, c, number, window) for number in PARTITIONS}
    none_text, none_int, none_time = cast(null(), String), cast(null(), Integer), cast(null(), UtcDateTime)
    statements = []
    for number, part in parts.items():
        names = PARTITIONS[number][1]
        keys = [part.c[name] if name in names else none_text for name in ("type", "category", "system")]
        statements.append(
            select(
                literal(number).label("kind"), part.c.rep, none_int.label("other"), part.c.title_id, *keys,
                func.min(part.c.at).label("start"), func.max(part.c.at).label("end"), func.count().label("n"),
                func.max(part.c.ticket).label("ticket"), none_text.label("title"),
            ).group_by(part.c.rep, part.c.title_id, *(part.c[name] for name in names))
        )  # fmt: skip
    one = parts[1]
    for number in (2, 3):
        other = parts[number]
        statements.append(
            select(literal(0), one.c.rep, other.c.rep, none_int, none_text, none_text, none_text, none_time,
                   none_time, none_int, none_int, none_text)
            .join_from(one, other, one.c.id == other.c.id)
            .distinct()
        )  # fmt: skip
    statements.append(
        select(literal(5), one.c.rep, func.min(one.c.id), none_int, none_text, none_text, none_text,
               func.min(one.c.at), none_time, func.count(), none_int, Incident.title)
        .join(Incident, Incident.id == one.c.id)
        .group_by(one.c.rep, Incident.title)
    )  # fmt: skip
    place = func.row_number().over(partition_by=one.c.rep, order_by=(one.c.at, one.c.id))
    last = func.row_number().over(partition_by=one.c.rep, order_by=(one.c.at.desc(), one.c.id.desc()))
    ranked = select(one.c.id, one.c.rep, one.c.at, one.c.ticket, place.label("place"), last.label("last")).subquery()
    members = (
        select(literal(4), ranked.c.rep, ranked.c.id, none_int, Incident.type, Incident.fault_category,
               Incident.system, ranked.c.at, none_time, case((ranked.c.last == 1, 1), else_=0), ranked.c.ticket,
               Incident.title)
        .join(Incident, Incident.id == ranked.c.id)
    )  # fmt: skip
    if head is not None:
        members = members.where((ranked.c.place <= head) | (ranked.c.last == 1))
    statements.append(members)
    return session.execute(union_all(*statements))


def _micro(moment: datetime) -> int:
    return (moment - EPOCH) // MICRO


def groups(
    session: Session, flt: ReportFilter, window: timedelta = WINDOW, *, head: int | None = 0, tz: tzinfo = SHANGHAI
) -> list[Group]:
    """The repeat groups of the period, earliest first, with their suggested titles and their first
    `head` incidents and latest one (every incident when `head` is None)."""
    runs: dict[tuple[int, int], Run] = {}
    shared: list[tuple[int, int]] = []
    titles: dict[int, list] = {}
    heads: dict[int, list[tuple[bool, RepeatCandidate]]] = {}
    for row in _run_rows(session, flt, window, head):
        kind, rep, other, title_id, type_, category, system, start, end, n, ticket, title = row
        if kind == 0:
            shared.append((rep, other))
        elif kind == 4:
            heads.setdefault(rep, []).append((n == 1, RepeatCandidate(other, title, type_, category, system, start,
                                                                         bool(ticket))))  # fmt: skip
        elif kind == 5:
            titles.setdefault(rep, []).append((start, other, title.strip(), n))
        else:
            names = PARTITIONS[kind][1]
            key = tuple(value for value, name in zip((type_, category, system), ("type", "category", "system"),
                                                     strict=True) if name in names)  # fmt: skip
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

    for one, other in shared:
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
    found.sort(key=lambda group: (group.first_at, group.first_id))
    for group in found:
        _name(group, titles, tz)
        chosen = sorted((item for rep in group.runs for item in heads.get(rep, [])),
                        key=lambda item: (item[1].registered_at, item[1].id))  # fmt: skip
        group.incidents = [incident for _, incident in chosen][: head if head is not None else None]
        group.latest = chosen[-1][1] if chosen else None
    return found


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


def _members(session: Session, flt: ReportFilter, window: timedelta, reps: list[int]):
    """The ids of the incidents of the given (type, category) runs."""
    _without_jit(session)
    part = _runs_of(session, _candidates(flt), 1, window)
    return session.execute(select(part.c.rep, part.c.id).where(part.c.rep.in_(reps)))


def with_ids(session: Session, flt: ReportFilter, found: list[Group], up_to: int, window: timedelta = WINDOW) -> None:
    """Give the groups of at most `up_to` incidents all their ids (the form that raises a problem ticket)."""
    owner = {rep: group for group in found if group.size <= up_to for rep in group.runs}
    if owner:
        for rep, incident_id in _members(session, flt, window, sorted(owner)):
            owner[rep].ids.append(incident_id)
        for group in found:
            group.ids.sort()


def tickets(session: Session, flt: ReportFilter, found: list[Group], window: timedelta = WINDOW) -> dict[int, list]:
    """The problem tickets of each group's incidents (by the group's first run), oldest first."""
    owner = {rep: group for group in found if group.has_problem_ticket for rep in group.runs}
    if not owner:
        return {}
    _without_jit(session)
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


def _name(group: Group, titles: dict[int, list], tz: tzinfo) -> None:
    """The group's suggested problem-ticket title (`repeats.suggested_title`), from its title counts."""
    total: Counter = Counter()
    for _, _, title, count in sorted(entry for rep in group.runs for entry in titles.get(rep, [])):
        total[title] += count  # in order of first occurrence: a tie goes to the earliest title
    title = max(total, key=total.__getitem__)
    first, last = (moment.astimezone(tz).strftime("%m-%d") for moment in (group.first_at, group.last_at))
    span = first if first == last else f"{first} 至 {last}"
    suffix = f"（{group.size} 起，{span}）"
    group.suggested_title = "重复事件：" + title[: TITLE_LIMIT - len("重复事件：") - len(suffix)] + suffix


def rows(session: Session, flt: ReportFilter, window: timedelta = WINDOW, tz: tzinfo = SHANGHAI) -> Iterator[RepeatRow]:
    """Every incident of every group, group by group (the CSV), from one statement."""
    for number, group in enumerate(groups(session, flt, window, head=None, tz=tz), start=1):
        for incident in group.incidents:
            yield RepeatRow(
                number, group.size, group.suggested_title, group.has_problem_ticket, incident.id, incident.number,
                incident.title, incident.registered_at, incident.has_problem_ticket,
            )  # fmt: skip
