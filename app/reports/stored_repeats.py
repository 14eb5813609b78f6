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

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Incident, utcnow
from app.reports.filters import ReportFilter, incident_number
from app.reports.models import RepeatAnalysis, RepeatAnalysisRow
from app.reports.repeats import RepeatCandidate, RepeatRow, candidates, repeat_rows, repeats

KEPT = timedelta(days=1)  # an analysis no page asked for in this long is deleted


@dataclass(frozen=True)
class StoredGroup:
    """A stored group as a page shows it: its first incidents (and its last), its size."""

    incidents: tuple[RepeatCandidate, ...]
    size: int
    has_problem_ticket: bool  # as of the analysis
    suggested_title: str

    @property
    def first_at(self) -> datetime:
        return self.incidents[0].registered_at

    @property
    def last_at(self) -> datetime:
        return self.incidents[-1].registered_at


@dataclass(frozen=True)
class RepeatResult:
    groups: list  # the first groups (`RepeatGroup` or `StoredGroup`), report order
    count: int  # every group
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


def repeat_result(
    session: Session, flt: ReportFilter, *, shown: int, load: int, inline_limit: int, max_age: timedelta, tz: tzinfo
) -> RepeatResult:
    """The first `shown` groups of the period with, per group, its first `load` incidents and its last."""
    if few_candidates(session, flt, inline_limit):
        found = repeats(session, flt, tz=tz)
        return RepeatResult(found[:shown], len(found), None, False, False)
    analysis = _stored(session, flt)
    if analysis is None or analysis.as_of is None:
        return RepeatResult([], 0, None, analysis is None, True)
    pending = analysis.requested_at > analysis.as_of
    wanted = not pending and utcnow() - analysis.as_of > max_age
    rows = session.scalars(
        select(RepeatAnalysisRow)
        .where(
            RepeatAnalysisRow.analysis_id == analysis.id,
            RepeatAnalysisRow.group_no <= shown,
            or_(RepeatAnalysisRow.position <= load, RepeatAnalysisRow.position == RepeatAnalysisRow.group_size),
        )
        .order_by(RepeatAnalysisRow.group_no, RepeatAnalysisRow.position)
    )
    members: dict[int, list[RepeatAnalysisRow]] = {}
    for row in rows:
        members.setdefault(row.group_no, []).append(row)
    groups = [
        StoredGroup(
            tuple(_candidate(row) for row in group),
            group[0].group_size, group[0].group_has_problem_ticket, group[0].suggested_title,
        )  # fmt: skip
        for group in members.values()
    ]
    return RepeatResult(groups, analysis.groups, analysis.as_of, wanted, pending or wanted)


def _candidate(row: RepeatAnalysisRow) -> RepeatCandidate:
    return RepeatCandidate(row.incident_id, row.title, None, None, None, row.registered_at, row.has_problem_ticket)


def repeat_table(session: Session, flt: ReportFilter, *, inline_limit: int, tz: tzinfo) -> list[RepeatRow]:
    """Every row of the period's groups: grouped now for a small period, else the stored result
    (none when there is none yet)."""
    if few_candidates(session, flt, inline_limit):
        return repeat_rows(repeats(session, flt, tz=tz))
    analysis = _stored(session, flt)
    if analysis is None:
        return []
    rows = session.scalars(
        select(RepeatAnalysisRow)
        .where(RepeatAnalysisRow.analysis_id == analysis.id)
        .order_by(RepeatAnalysisRow.group_no, RepeatAnalysisRow.position)
    )
    return [
        RepeatRow(row.group_no, row.group_size, row.suggested_title, row.group_has_problem_ticket, row.incident_id,
                  incident_number(row.incident_id), row.title,
                  row.registered_at, row.has_problem_ticket)
        for row in rows
    ]  # fmt: skip


def ask(db: Database, flt: ReportFilter) -> None:
    """Ask the timer worker for the period's groups (again)."""
    now = utcnow()
    try:
        with db.transaction() as session:
            analysis = _stored(session, flt)
            if analysis is None:
                session.add(RepeatAnalysis(**_key(flt), requested_at=now, groups=0))
            else:
                analysis.requested_at = now
    except IntegrityError:  # another page asked for it at the same moment
        pass


def compute(db: Database, analysis_id: int, flt: ReportFilter, tz: tzinfo) -> int:
    """Group the period's incidents now and store the groups; returns how many."""
    as_of = utcnow()
    with db.read() as session:
        groups = repeats(session, flt, tz=tz)
    positions: dict[int, int] = {}
    rows = []
    for row in repeat_rows(groups):
        positions[row.group] = positions.get(row.group, 0) + 1
        rows.append({
            "analysis_id": analysis_id, "group_no": row.group, "position": positions[row.group],
            "group_size": row.group_size, "suggested_title": row.suggested_title,
            "group_has_problem_ticket": row.group_has_problem_ticket, "incident_id": row.incident_id,
            "title": row.title, "registered_at": row.registered_at, "has_problem_ticket": row.has_problem_ticket,
        })  # fmt: skip
    with db.transaction() as session:
        session.execute(delete(RepeatAnalysisRow).where(RepeatAnalysisRow.analysis_id == analysis_id))
        if rows:
            session.execute(insert(RepeatAnalysisRow), rows)
        stored = update(RepeatAnalysis).where(RepeatAnalysis.id == analysis_id)
        session.execute(stored.values(as_of=as_of, groups=len(groups)))
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
