"""Repeat groups of periods with many incidents, off the page request (issue 14).

Grouping a period's incidents (`repeats.find_repeats`) is linear in them: a year at 100,000 incidents
takes seconds. A page whose period holds at most `inline_limit` candidates still groups them at once
(its figures are live). For a bigger period it reads the groups the timer worker stored for the same
period, type and level (`RepeatAnalysis`) and says as of when: the rule is the same, only the moment
differs. A page that finds no stored result, or one older than `max_age`, asks for it
(`ask`); after each timer sweep `ComputeRequested` groups what was asked for and forgets the
analyses no page asked for in a day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from operator import itemgetter

from sqlalchemy import String, and_, cast, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Incident, ProblemTicket, utcnow
from app.reports.filters import ReportFilter, incident_number
from app.reports.models import RepeatAnalysis, RepeatAnalysisRow
from app.reports.repeats import GroupSpan, RepeatCandidate, RepeatRow, candidates, repeat_rows, repeats

KEPT = timedelta(days=1)  # an analysis no page asked for in this long is deleted
KEPT_TICKETS = 5  # a stored group names its first problem tickets (by id), at most this many


@dataclass(frozen=True)
class StoredGroup(GroupSpan):
    """A stored group as a page shows it: its first incidents and its last, its size, and every
    incident id when it is small enough for one problem ticket."""

    incidents: tuple[RepeatCandidate, ...]
    size: int
    has_problem_ticket: bool  # as of the analysis
    suggested_title: str
    ids: tuple[int, ...]  # empty when the group has more than the `ids_up_to` of `repeat_result`


@dataclass(frozen=True)
class RepeatResult:
    groups: list  # the first groups (`RepeatGroup` or `StoredGroup`), report order
    count: int  # every group
    tickets: dict[int, tuple[list[ProblemTicket], int]]  # group number (1-based) → its first tickets now, how many
    as_of: datetime | None  # when a stored result's incidents were read; None: grouped in this request
    wanted: bool  # no result, or an old one: the page should ask for a new one (`ask`)
    pending: bool  # a new result was asked for and is not there yet


def _key(flt: ReportFilter) -> dict:
    return {"period_start": flt.start, "period_end": flt.end, "type": flt.type or "", "level": flt.level or ""}


def _filter(analysis: RepeatAnalysis) -> ReportFilter:
    return ReportFilter(analysis.period_start, analysis.period_end, analysis.type or None, analysis.level or None)


def few_candidates(session: Session, flt: ReportFilter, limit: int) -> bool:
    """Whether the period has at most `limit` candidates (reads at most `limit` + 1 ids)."""
    capped = select(Incident.id).where(*candidates(flt)).limit(limit + 1).subquery()
    return session.scalar(select(func.count()).select_from(capped)) <= limit


def _stored(session: Session, flt: ReportFilter) -> RepeatAnalysis | None:
    return session.scalars(select(RepeatAnalysis).filter_by(**_key(flt))).one_or_none()


def stored_state(session: Session, flt: ReportFilter) -> tuple[RepeatAnalysis | None, tuple]:
    """The period's stored analysis, and what a `repeat_result` depends on besides the incidents and the
    clock: the analysis' id, when its incidents were read, when it was last asked for, and the newest
    problem ticket (a group's tickets are those of its incidents, or above the analysis' last)."""
    analysis = _stored(session, flt)
    newest_ticket = session.scalar(select(func.max(ProblemTicket.id)))
    if analysis is None:
        return None, (newest_ticket,)
    return analysis, (newest_ticket, analysis.id, analysis.as_of, analysis.requested_at)


def as_of_now(result: RepeatResult, analysis: RepeatAnalysis | None, max_age: timedelta) -> RepeatResult:
    """A `repeat_result` read earlier, with the stored analysis it read (the same state), as it would be
    read now: a stored result grows old by the clock alone."""
    if result.as_of is None or analysis is None:  # grouped in the request, or none stored: no age
        return result
    asking = _wanted(analysis, max_age)
    return replace(result, wanted=asking, pending=analysis.requested_at > analysis.as_of or asking)


def repeat_result(
    session: Session, flt: ReportFilter, *, shown: int, rows: int, ids_up_to: int, first_tickets: int,
    inline_limit: int, max_age: timedelta, tz: tzinfo, stored: RepeatAnalysis | None = None, few: bool | None = None,
) -> RepeatResult:  # fmt: skip
    """The first `shown` groups of the period with, per group, its first `rows` incidents and its last,
    every incident id of a group of at most `ids_up_to`, and its first problem tickets (by id). `stored`:
    the period's stored analysis (`stored_state`), when already read; `few`: `few_candidates`, when
    already asked. A stored result (not `few`) is a function of `stored_state` alone: its groups are
    the analysis', and a problem ticket's shown fields never change after it is raised."""
    if few_candidates(session, flt, inline_limit) if few is None else few:
        every = repeats(session, flt, tz=tz)
        found = every[:shown]
        group_of = {incident.id: number for number, group in enumerate(found, start=1) for incident in group.incidents}
        query = select(ProblemTicket).where(ProblemTicket.incident_id.in_(group_of)).order_by(ProblemTicket.id)
        every_ticket: dict[int, list[ProblemTicket]] = {}
        for ticket in session.scalars(query):
            every_ticket.setdefault(group_of[ticket.incident_id], []).append(ticket)
        tickets = {number: (listed[:first_tickets], len(listed)) for number, listed in every_ticket.items()}
        return RepeatResult(found, len(every), tickets, None, False, False)
    analysis = _stored(session, flt) if stored is None else stored
    if analysis is None or analysis.as_of is None:
        return RepeatResult([], 0, {}, None, analysis is None, True)
    row = RepeatAnalysisRow
    of_analysis = row.analysis_id == analysis.id
    # each condition below is one index range of one group (its first rows, its last): never every row of a
    # year's groups (with `position` inside an OR, the index gave every row of the group to a filter: 98,045;
    # `position == 1` alone, the rows of every group to a filter: each group's first row carries its size and
    # kept tickets, read with its first rows)
    columns = (row.group_no, row.position, row.group_size, row.group_has_problem_ticket, row.suggested_title,
               row.incident_id, row.title, row.registered_at, row.has_problem_ticket, row.group_tickets,
               row.group_first_tickets)  # fmt: skip
    firsts = select(*columns).where(of_analysis, row.group_no.in_(range(1, shown + 1)), row.position <= rows)
    found = session.execute(firsts.order_by(row.group_no, row.position)).all()
    sizes = {number: size for number, position, size, *_ in found if position == 1}
    lasts = [and_(row.group_no == number, row.position == size) for number, size in sizes.items() if size > rows]
    if lasts:
        found += session.execute(select(*columns).where(of_analysis, or_(*lasts)).order_by(row.group_no)).all()
    members: dict[int, list[RepeatCandidate]] = {}
    heads: dict[int, tuple] = {}
    kept: dict[int, tuple[int, str]] = {}
    for number, position, size, has_ticket, title, *incident, tickets, first_ids in sorted(found, key=itemgetter(0)):
        if position == 1:
            heads[number], kept[number] = (size, has_ticket, title), (tickets, first_ids)
        incident_id, incident_title, registered_at, had_ticket = incident
        members.setdefault(number, []).append(
            RepeatCandidate(incident_id, incident_title, None, None, None, registered_at, had_ticket)
        )
    small = [number for number, (size, _, _) in heads.items() if size <= ids_up_to]
    ids = dict(session.execute(
        select(row.group_no, func.aggregate_strings(cast(row.incident_id, String), ","))
        .where(of_analysis, row.group_no.in_(small))
        .group_by(row.group_no)
    ).all()) if small else {}  # fmt: skip
    groups = [
        StoredGroup(tuple(members[number]), *heads[number], tuple(int(i) for i in ids.get(number, "").split(",") if i))
        for number in members
    ]
    tickets = _tickets(session, analysis, kept, min(first_tickets, KEPT_TICKETS))
    asking = _wanted(analysis, max_age)
    pending = analysis.requested_at > analysis.as_of
    return RepeatResult(groups, analysis.groups, tickets, analysis.as_of, asking, pending or asking)


def _tickets(
    session: Session, analysis: RepeatAnalysis, kept: dict[int, tuple[int, str]], first: int
) -> dict[int, tuple[list[ProblemTicket], int]]:
    """The first problem tickets (by id, at most `KEPT_TICKETS`) of each shown group and how many it
    has, now: those the analysis kept (`kept`: group → how many, their first ids comma-joined) and those
    raised since (ids above the last it read, by incident)."""
    row = RepeatAnalysisRow
    counts = {number: count for number, (count, _ids) in kept.items()}
    ids = {number: [int(i) for i in listed.split(",") if i] for number, (_count, listed) in kept.items()}
    since = session.execute(
        select(row.group_no, ProblemTicket.id)
        .join(ProblemTicket, ProblemTicket.incident_id == row.incident_id)
        .where(row.analysis_id == analysis.id, row.group_no.in_(kept), ProblemTicket.id > analysis.tickets_up_to)
    ).all()
    for number, ticket_id in since:
        ids[number].append(ticket_id)
        counts[number] += 1
    named = {number: sorted(listed)[:first] for number, listed in ids.items()}
    wanted = [ticket_id for listed in named.values() for ticket_id in listed]
    query = select(ProblemTicket).where(ProblemTicket.id.in_(wanted))
    loaded = {ticket.id: ticket for ticket in session.scalars(query)} if wanted else {}
    return {
        number: ([loaded[i] for i in listed if i in loaded], counts[number])
        for number, listed in named.items()
        if counts[number]
    }


def _wanted(analysis: RepeatAnalysis | None, max_age: timedelta) -> bool:
    """Whether a page should ask for the analysis: none stored, or one older than `max_age` not asked
    for again yet."""
    if analysis is None:
        return True
    if analysis.as_of is None or analysis.requested_at > analysis.as_of:
        return False  # asked for already
    return utcnow() - analysis.as_of > max_age


def wanted(session: Session, flt: ReportFilter, *, inline_limit: int, max_age: timedelta) -> bool:
    """Whether reading the period's repeat groups should ask the worker for them (`ask`)."""
    return not few_candidates(session, flt, inline_limit) and _wanted(_stored(session, flt), max_age)


def repeat_table(session: Session, flt: ReportFilter, *, inline_limit: int, tz: tzinfo) -> list[RepeatRow]:
    """Every row of the period's groups: grouped now for a small period, else the stored result
    (none when there is none yet)."""
    if few_candidates(session, flt, inline_limit):
        return repeat_rows(repeats(session, flt, tz=tz))
    analysis = _stored(session, flt)
    if analysis is None:
        return []
    row = RepeatAnalysisRow
    query = (
        select(row.group_no, row.group_size, row.suggested_title, row.group_has_problem_ticket, row.incident_id,
               row.title, row.registered_at, row.has_problem_ticket)
        .where(row.analysis_id == analysis.id)
        .order_by(row.group_no, row.position)
    )  # fmt: skip
    return [
        RepeatRow(number, size, suggested, group_ticket, incident_id, incident_number(incident_id), *rest)
        for number, size, suggested, group_ticket, incident_id, *rest in session.execute(query)
    ]


def ask(db: Database, flt: ReportFilter) -> None:
    """Ask the timer worker for the period's groups (again)."""
    now = utcnow()
    try:
        with db.transaction() as session:
            analysis = _stored(session, flt)
            if analysis is None:
                session.add(RepeatAnalysis(**_key(flt), requested_at=now, groups=0, tickets_up_to=0))
            else:
                analysis.requested_at = now
    except IntegrityError:  # another page asked for it at the same moment
        pass


def compute(db: Database, analysis_id: int, flt: ReportFilter, tz: tzinfo) -> int:
    """Group the period's incidents now and store the groups; returns how many."""
    as_of = utcnow()
    with db.read() as session:
        groups = repeats(session, flt, tz=tz)
        up_to = session.scalar(select(func.coalesce(func.max(ProblemTicket.id), 0)))  # before the tickets: none twice
        of_candidates = select(Incident.id).where(*candidates(flt))
        query = select(ProblemTicket.incident_id, ProblemTicket.id).where(
            ProblemTicket.incident_id.in_(of_candidates), ProblemTicket.id <= up_to
        )
        ticket_ids: dict[int, list[int]] = {}
        for incident_id, ticket_id in session.execute(query.order_by(ProblemTicket.id)):
            ticket_ids.setdefault(incident_id, []).append(ticket_id)
    positions: dict[int, int] = {}
    group_tickets: dict[int, list[int]] = {}
    for number, group in enumerate(groups, start=1):
        group_tickets[number] = sorted(t for incident in group.incidents for t in ticket_ids.get(incident.id, []))
    rows = []
    for row in repeat_rows(groups):
        positions[row.group] = positions.get(row.group, 0) + 1
        tickets = group_tickets[row.group]
        rows.append({
            "analysis_id": analysis_id, "group_no": row.group, "position": positions[row.group],
            "group_size": row.group_size, "suggested_title": row.suggested_title,
            "group_has_problem_ticket": row.group_has_problem_ticket, "incident_id": row.incident_id,
            "title": row.title, "registered_at": row.registered_at, "has_problem_ticket": row.has_problem_ticket,
            "group_tickets": len(tickets), "group_first_tickets": ",".join(map(str, tickets[:KEPT_TICKETS])),
        })  # fmt: skip
    with db.transaction() as session:
        # two timer workers storing the same analysis take turns (PostgreSQL; SQLite writers are serialized)
        session.execute(select(RepeatAnalysis.id).where(RepeatAnalysis.id == analysis_id).with_for_update())
        session.execute(delete(RepeatAnalysisRow).where(RepeatAnalysisRow.analysis_id == analysis_id))
        if rows:
            session.execute(insert(RepeatAnalysisRow), rows)
        stored = update(RepeatAnalysis).where(RepeatAnalysis.id == analysis_id)
        session.execute(stored.values(as_of=as_of, groups=len(groups), tickets_up_to=up_to))
    return len(groups)


def compute_requested(db: Database, tz: tzinfo) -> int:
    """Forget the analyses no page asked for in `KEPT`, then compute those asked for; returns how many."""
    cutoff = utcnow() - KEPT
    with db.transaction() as session:
        old = select(RepeatAnalysis.id).where(RepeatAnalysis.requested_at < cutoff)
        session.execute(delete(RepeatAnalysisRow).where(RepeatAnalysisRow.analysis_id.in_(old)))
        session.execute(delete(RepeatAnalysis).where(RepeatAnalysis.requested_at < cutoff))
    with db.read() as session:
        wanted = session.scalars(
            select(RepeatAnalysis)
            .where(or_(RepeatAnalysis.as_of.is_(None), RepeatAnalysis.requested_at > RepeatAnalysis.as_of))
            .order_by(RepeatAnalysis.requested_at)
        ).all()
    for analysis in wanted:
        compute(db, analysis.id, _filter(analysis), tz)
    return len(wanted)


@dataclass
class ComputeRequested:
    """Called after every timer sweep: computes the repeat analyses the pages asked for."""

    db: Database
    tz: tzinfo

    def __call__(self) -> None:
        compute_requested(self.db, self.tz)
