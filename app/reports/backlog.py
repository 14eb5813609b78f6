"""Backlog, deadline breaches and reopened incidents.

- Backlog: incidents not yet resolved (status `new` — waiting for registration — or `open`; one
  waiting for a change, `waiting_change`, is not in handling and not counted). Now:
  read from the current columns. At a past moment: rebuilt from the audit trail (the last status
  event at or before that moment, the last dispatch for the stage, the last classification for the
  level), so it is exact whatever happened since.
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

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.incidents.projection import NEW, OPEN
from app.models import AuditEvent, Incident, utcnow
from app.reports.events import AuditRow, by_incident, select_rows
from app.reports.filters import (
    LEVEL_ORDER,
    NONE,
    REGISTRATION,
    SUPPORT_GROUPS,
    ReportFilter,
    incident_number,
    key_or_none,
    ordered,
    support_group,
)

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
class OpenIncident:
    incident_id: int
    stage: str  # support-group key
    level: str | None


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


def open_at(events: Iterable[AuditRow], moment: datetime) -> list[OpenIncident]:
    """The incidents open (new or open) at `moment`, from their audit rows up to that moment."""
    result = []
    for incident_id, rows in sorted(by_incident(events).items()):
        is_open, stage, level = False, REGISTRATION, None
        for row in rows:
            if row.at > moment:
                break
            is_open = _OPEN_AFTER.get(row.kind, is_open)
            if row.kind == "dispatched":
                stage = support_group(row.stage, row.group) or REGISTRATION
            elif row.kind in ("classified", "reclassified"):
                level = row.level
        if is_open:
            result.append(OpenIncident(incident_id, stage, level))
    return result


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
    events = select_rows(session, _STATE_KINDS, AuditEvent.incident_id.in_(candidates), AuditEvent.at <= at)
    items = [
        (item.stage, item.level, 1)
        for item in open_at(events, at)
        if flt.group_matches(item.stage) and flt.level_matches(item.level)
    ]
    return summarize_backlog(at, items)


# ---------------------------------------------------------------------------------- breaches, reopens


def _group_before(rows: list[AuditRow], index: int) -> str:
    """The support group that had the incident just before rows[index] (its last dispatch)."""
    for row in reversed(rows[:index]):
        if row.kind == "dispatched":
            return support_group(row.stage, row.group) or REGISTRATION
    return REGISTRATION


def breach_rows(events: Iterable[AuditRow], flt: ReportFilter) -> list[CountRow]:
    """Incidents whose deadline breach was recorded in the period, by the level breached."""
    breached: dict[int, str] = {}
    for incident_id, rows in by_incident(events).items():
        for index, row in enumerate(rows):
            if row.kind != "deadline_breach" or not flt.contains(row.at) or incident_id in breached:
                continue
            if flt.level_matches(row.level) and flt.group_matches(_group_before(rows, index)):
                breached[incident_id] = key_or_none(row.level)
    return list(_counts(((level, 1) for level in breached.values()), LEVEL_ORDER))


def reopen_rows(events: Iterable[AuditRow], flt: ReportFilter) -> list[ReopenRow]:
    """Reopens in the period by the support group whose resolution the requester rejected."""
    reopens: dict[str, int] = {}
    incidents: dict[str, set[int]] = {}
    for incident_id, rows in by_incident(events).items():
        for index, row in enumerate(rows):
            if row.kind != "reopened" or not flt.contains(row.at):
                continue
            resolution = next((r for r in reversed(rows[:index]) if r.kind == "resolved"), None)
            dispatch = next((r for r in reversed(rows[:index]) if r.kind == "dispatched"), None)
            if resolution is None:
                key = NONE
            else:
                key = support_group(resolution.stage, dispatch.group if dispatch else None) or NONE
            if flt.group_matches(key):
                reopens[key] = reopens.get(key, 0) + 1
                incidents.setdefault(key, set()).add(incident_id)
    return [ReopenRow(key, reopens[key], len(incidents[key])) for key in ordered(reopens, SUPPORT_GROUPS)]


def _events_of_incidents_with(session: Session, kind: str, flt: ReportFilter, kinds: tuple[str, ...]):
    """Rows of `kinds` up to the period's end, of the incidents (of the filter's type and, unless
    `kind` carries its own level, level) that have a `kind` row in the period."""
    marked = select(AuditEvent.incident_id).where(
        AuditEvent.kind == kind, AuditEvent.at >= flt.start, AuditEvent.at < flt.end
    )
    incidents = select(Incident.id).where(
        Incident.id.in_(marked), *flt.incident_criteria(level=kind != "deadline_breach")
    )
    return select_rows(session, kinds, AuditEvent.incident_id.in_(incidents), AuditEvent.at < flt.end)


def breaches(session: Session, flt: ReportFilter) -> list[CountRow]:
    """Incidents whose deadline breach was recorded in the period, by the level breached; the filter's
    group is the support group that had the incident at the breach."""
    events = _events_of_incidents_with(session, "deadline_breach", flt, ("dispatched", "deadline_breach"))
    return breach_rows(events, flt)


def reopens(session: Session, flt: ReportFilter) -> list[ReopenRow]:
    """Reopens in the period by the support group whose resolution was rejected (the filter's level is
    the incident's current level)."""
    events = _events_of_incidents_with(session, "reopened", flt, ("dispatched", "resolved", "reopened"))
    return reopen_rows(events, flt)


def reopened_incidents(session: Session, flt: ReportFilter) -> list[ReopenedIncident]:
    """The incidents reopened in the period, most reopened first (type and level filters apply)."""
    reopened_in_period = func.count(AuditEvent.id)
    query = (
        select(Incident.id, Incident.title, Incident.status, Incident.reopen_count, reopened_in_period)
        .join(AuditEvent, AuditEvent.incident_id == Incident.id)
        .where(AuditEvent.kind == "reopened", AuditEvent.at >= flt.start, AuditEvent.at < flt.end)
        .where(*flt.incident_criteria())
        .group_by(Incident.id, Incident.title, Incident.status, Incident.reopen_count)
        .order_by(reopened_in_period.desc(), Incident.id)
    )
    return [
        ReopenedIncident(incident_id, incident_number(incident_id), title, status, count, total)
        for incident_id, title, status, total, count in session.execute(query)
    ]
