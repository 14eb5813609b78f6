"""Backlog, deadline breaches and reopened incidents.

- Backlog: incidents not yet resolved (status `new` — waiting for registration — or `open`; one
  waiting for a change, `waiting_change`, is not in handling and not counted). Now:
  read from the current columns. At a past moment: rebuilt from the audit trail (the last status
  event at or before that moment, the last dispatch for the stage, the last classification for the
  level), so it is exact whatever happened since — by the database (window functions over the
  candidates' audit rows of those kinds), not by walking the rows in Python.
- Breaches: `deadline_breach` audit events in the period (the moment the breach was recorded,
  which is when the timer sweep ran, at most one sweep interval after `due_at`), one per incident,
  by the level whose deadline was breached, at the support group that had the incident then.
- Reopens: `reopened` audit events in the period (the requester said "not resolved"), by the
  support group whose resolution was rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.incidents.projection import NEW, OPEN
from app.models import AuditEvent, Incident, utcnow
from app.reports.counted import Request, counted_of
from app.reports.counters import BREACHED
from app.reports.events import CLASSIFICATION_KINDS, event_fields
from app.reports.filters import (
    LEVEL_ORDER,
    REGISTRATION,
    SUPPORT_GROUPS,
    ReportFilter,
    group_matches_sql,
    incident_number,
    key_or_none,
    key_or_none_sql,
    ordered,
    support_group,
)
from app.reports.models import BREACH, REOPEN, ReportEvent

# While it waits for a change (transferred → change_returned) an incident is not in the backlog.
_OPEN_AFTER = {
    "started": True, "resolved": False, "reopened": True, "transferred": False, "change_returned": True,
    "closed": False, "withdrawn": False, "closed_as_duplicate": False,
}  # fmt: skip
_STATE_KINDS = ("classified", "reclassified", "dispatched", *_OPEN_AFTER)


@dataclass(frozen=True)
class CountRow:
    key: str
    count: int


@dataclass(frozen=True)
class Backlog:
    at: datetime
    total: int
    by_stage: tuple[CountRow, ...]  # support group that has the incident ("registration": not registered yet)
    by_level: tuple[CountRow, ...]


@dataclass(frozen=True)
class ReopenRow:
    key: str  # the support group whose resolution was rejected
    reopens: int
    incidents: int


@dataclass(frozen=True)
class ReopenedIncident:
    incident_id: int
    number: str
    title: str
    status: str
    reopens_in_period: int
    reopen_count: int  # all reopens of the incident so far


def _counts(pairs: Iterable[tuple[str, int]], canonical: Iterable[str]) -> tuple[CountRow, ...]:
    totals: dict[str, int] = {}
    for key, count in pairs:
        totals[key] = totals.get(key, 0) + count
    return tuple(CountRow(key, totals[key]) for key in ordered(totals, tuple(canonical)))


def summarize_backlog(at: datetime, counts: Iterable[tuple[str, str | None, int]]) -> Backlog:
    """(stage key, level, count) → the backlog with its counts by stage and by level."""
    counts = list(counts)
    return Backlog(
        at,
        sum(count for _, _, count in counts),
        _counts(((stage, count) for stage, _, count in counts), SUPPORT_GROUPS),
        _counts(((key_or_none(level), count) for _, level, count in counts), LEVEL_ORDER),
    )


def backlog(session: Session, flt: ReportFilter, at: datetime | None = None) -> Backlog:
    """Open incidents now (`at` None, from the columns) or at a past moment (from the audit trail).

    The filter's period is not used; its type is the current type, its level and group the level and
    support group at that moment.
    """
    if at is None:
        query = (
            select(Incident.current_stage, Incident.current_group, Incident.level, func.count())
            .where(Incident.status.in_((NEW, OPEN)), *flt.incident_criteria())
            .group_by(Incident.current_stage, Incident.current_group, Incident.level)
        )
        counts = [
            (support_group(stage, group) or REGISTRATION, level, count)
            for stage, group, level, count in session.execute(query)
        ]
        return summarize_backlog(utcnow(), [row for row in counts if flt.group_matches(row[0])])
    candidates = select(Incident.id).where(
        Incident.created_at <= at,
        or_(Incident.closed_at.is_(None), Incident.closed_at > at),  # closing is final
        *flt.incident_criteria(level=False),
    )
    counts = [
        (support_group(stage, group) or REGISTRATION, level, count)
        for stage, group, level, count in session.execute(_open_at(session, candidates, at))
    ]
    return summarize_backlog(at, [row for row in counts if flt.group_matches(row[0]) and flt.level_matches(row[1])])


def _open_at(session: Session, candidates: Select, at: datetime) -> Select:
    """(stage, group, level, count) of the candidates open at `at`, aggregated by the database: each
    incident's last status event, dispatch and classification at or before `at` (in chain order)."""
    part = case(
        (AuditEvent.kind == "dispatched", "stage"), (AuditEvent.kind.in_(CLASSIFICATION_KINDS), "level"), else_="status"
    )
    ranked = (
        select(
            AuditEvent.id, AuditEvent.incident_id, part.label("part"),
            func.row_number().over(partition_by=(AuditEvent.incident_id, part), order_by=AuditEvent.id.desc())
            .label("rank"),
        )
        .where(AuditEvent.kind.in_(_STATE_KINDS), AuditEvent.incident_id.in_(candidates), AuditEvent.at <= at)
        .subquery()
    )  # fmt: skip
    fields = event_fields(session.get_bind().dialect.name)  # JSON read only from the last rows
    last = (
        select(ranked.c.incident_id, ranked.c.part, AuditEvent.kind, fields["stage"].label("stage"),
               fields["group"].label("grp"), fields["level"].label("level"))
        .join(AuditEvent, AuditEvent.id == ranked.c.id)
        .where(ranked.c.rank == 1)
        .subquery()
    )  # fmt: skip
    opening = tuple(kind for kind, opens in _OPEN_AFTER.items() if opens)
    latest = (
        select(
            func.max(case((last.c.part == "status", last.c.kind))).label("status"),
            func.max(case((last.c.part == "stage", last.c.stage))).label("stage"),
            func.max(case((last.c.part == "stage", last.c.grp))).label("grp"),
            func.max(case((last.c.part == "level", last.c.level))).label("level"),
        )
        .group_by(last.c.incident_id)
        .subquery()
    )
    return (
        select(latest.c.stage, latest.c.grp, latest.c.level, func.count())
        .where(latest.c.status.in_(opening))
        .group_by(latest.c.stage, latest.c.grp, latest.c.level)
    )


# ---------------------------------------------------------------------------------- breaches, reopens


def _events_in(kind: str, flt: ReportFilter, *, level: bool) -> list:
    """The roll-up's events of `kind` in the period, of incidents of the filter's type (and current
    level, when `level`)."""
    return [
        ReportEvent.kind == kind,
        ReportEvent.at >= flt.start,
        ReportEvent.at < flt.end,
        *flt.of_incidents(ReportEvent.incident_id, level=level),
    ]


def _breaches_in(event: type[ReportEvent], flt: ReportFilter) -> list:
    """Breach events in the period at the filter's level breached and support group then."""
    level_key = key_or_none_sql(event.level)
    return [
        event.kind == BREACH,
        event.at >= flt.start,
        event.at < flt.end,
        *([] if flt.level is None else [level_key == flt.level]),
        *group_matches_sql(event.support_group, flt.group),
    ]


FIRST_BREACHES: Request = (BREACHED, ("level", "grp"), None, False, True)  # counters' incidents' first breaches


def breaches(session: Session, flt: ReportFilter) -> list[CountRow]:
    """Incidents whose deadline breach was recorded in the period, by the level breached; the filter's
    level is the level breached and its group the support group that had the incident at the breach.
    An incident counts once, with its first breach in the period that the filter selects: its first-ever
    breach is first in any period (nearly all: read from the per-day counters, `app.reports.counters`),
    another one when no earlier breach of its incident is in the period and selected (those few read by
    their own partial index, `ix_report_events_breached_again`)."""
    firsts = counted_of(session, flt, FIRST_BREACHES)
    pairs = [(level, values[0]) for (level, group), values in firsts.items() if flt.group_matches(group)]
    earlier = aliased(ReportEvent)
    level_key = key_or_none_sql(ReportEvent.level)
    again = (
        select(level_key, func.count())
        .where(
            *_breaches_in(ReportEvent, flt),
            ReportEvent.breached_before.is_(True),
            *flt.of_incidents(ReportEvent.incident_id, level=False),
            ~exists().where(
                earlier.incident_id == ReportEvent.incident_id,
                earlier.audit_id < ReportEvent.audit_id,
                *_breaches_in(earlier, flt),
            ),
        )
        .group_by(level_key)
    )
    return list(_counts([*pairs, *session.execute(again)], LEVEL_ORDER))


def reopens(session: Session, flt: ReportFilter) -> list[ReopenRow]:
    """Reopens in the period by the support group whose resolution was rejected (the filter's level is
    the incident's current level)."""
    query = (
        select(ReportEvent.support_group, func.count(), func.count(ReportEvent.incident_id.distinct()))
        .where(*_events_in(REOPEN, flt, level=True), *group_matches_sql(ReportEvent.support_group, flt.group))
        .group_by(ReportEvent.support_group)
    )
    found = {key: (count, incidents) for key, count, incidents in session.execute(query)}
    return [ReopenRow(key, *found[key]) for key in ordered(found, SUPPORT_GROUPS)]


def reopened_incidents(session: Session, flt: ReportFilter, limit: int | None = None) -> list[ReopenedIncident]:
    """The incidents reopened in the period, most reopened first (type and level filters apply); the
    first `limit` of them when given. The period's reopens are counted per incident from the index of
    the roll-up events before any incident row is read: only the listed incidents' are."""
    reopened_in_period = func.count().label("reopens")
    counted = (
        select(ReportEvent.incident_id, reopened_in_period)
        .where(*_events_in(REOPEN, flt, level=True))
        .group_by(ReportEvent.incident_id)
        .order_by(reopened_in_period.desc(), ReportEvent.incident_id)
        .limit(limit)
        .subquery()
    )
    query = (
        select(Incident.id, Incident.title, Incident.status, Incident.reopen_count, counted.c.reopens)
        .join(counted, counted.c.incident_id == Incident.id)
        .order_by(counted.c.reopens.desc(), Incident.id)
    )
    return [
        ReopenedIncident(incident_id, incident_number(incident_id), title, status, count, total)
        for incident_id, title, status, total, count in session.execute(query)
    ]
