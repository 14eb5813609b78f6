"""The reports' old Python path, kept as the reference the SQL aggregation and the roll-ups must agree
with (tests only): every figure computed by walking plain rows, exactly as before issue 14."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Incident
from app.reports.backlog import _OPEN_AFTER, Backlog, CountRow, ReopenRow, _counts, summarize_backlog
from app.reports.counters import is_staff
from app.reports.events import AuditRow, by_incident, select_rows
from app.reports.filters import (
    ALL,
    LEVEL_ORDER,
    NONE,
    REGISTRATION,
    SHANGHAI,
    SUPPORT_GROUPS,
    TYPE_ORDER,
    Dimension,
    Period,
    ReportFilter,
    bucket_key,
    bucket_keys,
    group_criteria,
    key_or_none,
    ordered,
    support_group,
)
from app.reports.memory import FIRST_ACTIONS, HANDLING_STEPS
from app.reports.response_time import ResponseTimes
from app.reports.stats import DurationRow
from app.reports.timeliness import RateRow, rate_rows
from app.reports.workload import TaskSpan, Totals, span_at

# ---------------------------------------------------------------------------------- rates, durations


def count_outcomes(outcomes: Iterable[tuple[str, bool]]) -> list[tuple[str, int, int]]:
    counts: dict[str, list[int]] = {}
    for key, in_time in outcomes:
        count = counts.setdefault(key, [0, 0])
        count[0] += 1
        count[1] += 1 if in_time else 0
    return [(key, resolved, timely) for key, (resolved, timely) in counts.items()]


def rates_by_period(
    resolutions: Iterable[tuple[datetime, bool]], start: datetime, end: datetime, period: Period = "month",
    tz: tzinfo = SHANGHAI,
) -> list[RateRow]:  # fmt: skip
    keys = bucket_keys(start, end, period, tz)
    outcomes = ((bucket_key(at, period, tz), in_time) for at, in_time in resolutions if start <= at < end)
    return rate_rows(count_outcomes(outcomes), keys)


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def nearest_rank(sorted_values: Sequence[float], percent: float) -> float:
    if not sorted_values:
        raise ValueError("no values")
    if not 0 < percent <= 100:
        raise ValueError("percent must be in (0, 100]")
    return sorted_values[math.ceil(percent / 100 * len(sorted_values)) - 1]


def duration_row(key: str, hours: Iterable[float]) -> DurationRow:
    values = sorted(hours)
    if not values:
        return DurationRow(key, 0, None, None, None, None)
    return DurationRow(
        key,
        len(values),
        round(math.fsum(values) / len(values), 2),
        round(nearest_rank(values, 50), 2),
        round(nearest_rank(values, 90), 2),
        round(values[-1], 2),
    )


def duration_rows(durations: Iterable[tuple[str, float]], order: Sequence[str] = ()) -> list[DurationRow]:
    grouped: dict[str, list[float]] = {key: [] for key in order}
    for key, hours in durations:
        grouped.setdefault(key, []).append(hours)
    first = list(dict.fromkeys(order))
    return [duration_row(key, grouped[key]) for key in first + sorted(set(grouped) - set(first))]


def _resolved_in(flt: ReportFilter):
    return [
        Incident.resolved_at.is_not(None), Incident.resolved_at >= flt.start, Incident.resolved_at < flt.end,
        *flt.incident_criteria(), *group_criteria(flt.group, Incident.resolved_stage, Incident.current_group),
    ]  # fmt: skip


def timeliness_by_period(session: Session, flt: ReportFilter, period: Period, tz: tzinfo = SHANGHAI) -> list[RateRow]:
    query = select(Incident.resolved_at, Incident.resolved_in_time).where(*_resolved_in(flt))
    return rates_by_period([(at, bool(t)) for at, t in session.execute(query)], flt.start, flt.end, period, tz)


def resolution_time(session: Session, flt: ReportFilter, by: Dimension = "all") -> list[DurationRow]:
    query = select(
        Incident.registered_at, Incident.resolved_at, Incident.type, Incident.level, Incident.resolved_stage,
        Incident.current_group,
    ).where(Incident.registered_at.is_not(None), *_resolved_in(flt))  # fmt: skip
    durations = []
    for registered_at, resolved_at, type_, level, stage, group in session.execute(query):
        key = {"all": ALL, "type": key_or_none(type_), "level": key_or_none(level),
               "group": key_or_none(support_group(stage, group))}[by]  # fmt: skip
        durations.append((key, hours_between(registered_at, resolved_at)))
    if by == "all":
        return duration_rows(durations, [ALL])
    canonical = {"type": TYPE_ORDER, "level": LEVEL_ORDER, "group": SUPPORT_GROUPS}[by]
    return duration_rows(durations, ordered((key for key, _ in durations), canonical))


# ---------------------------------------------------------------------------------- breaches, reopens


def _group_before(rows: list[AuditRow], index: int) -> str:
    for row in reversed(rows[:index]):
        if row.kind == "dispatched":
            return support_group(row.stage, row.group) or REGISTRATION
    return REGISTRATION


def breach_rows(events: Iterable[AuditRow], flt: ReportFilter) -> list[CountRow]:
    breached: dict[int, str] = {}
    for incident_id, rows in by_incident(events).items():
        for index, row in enumerate(rows):
            if row.kind != "deadline_breach" or not flt.contains(row.at) or incident_id in breached:
                continue
            if flt.level_matches(row.level) and flt.group_matches(_group_before(rows, index)):
                breached[incident_id] = key_or_none(row.level)
    return list(_counts(((level, 1) for level in breached.values()), LEVEL_ORDER))


def reopen_rows(events: Iterable[AuditRow], flt: ReportFilter) -> list[ReopenRow]:
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
    marked = select(AuditEvent.incident_id).where(
        AuditEvent.kind == kind, AuditEvent.at >= flt.start, AuditEvent.at < flt.end
    )
    incidents = select(Incident.id).where(
        Incident.id.in_(marked), *flt.incident_criteria(level=kind != "deadline_breach")
    )
    return select_rows(session, kinds, AuditEvent.incident_id.in_(incidents), AuditEvent.at < flt.end)


def breaches(session: Session, flt: ReportFilter) -> list[CountRow]:
    kinds = ("dispatched", "deadline_breach")
    return breach_rows(_events_of_incidents_with(session, "deadline_breach", flt, kinds), flt)


def reopens(session: Session, flt: ReportFilter) -> list[ReopenRow]:
    kinds = ("dispatched", "resolved", "reopened")
    return reopen_rows(_events_of_incidents_with(session, "reopened", flt, kinds), flt)


# ---------------------------------------------------------------------------------- response, change waits


def first_steps(rows: Iterable[AuditRow]) -> dict[int, datetime]:
    first: dict[int, datetime] = {}
    for row in rows:
        if row.kind in FIRST_ACTIONS and row.spec_id in HANDLING_STEPS:
            if row.incident_id not in first or row.at < first[row.incident_id]:
                first[row.incident_id] = row.at
    return first


def response_times_of(
    incidents: Iterable[tuple[int, datetime, datetime]], first_step: Mapping[int, datetime], target: timedelta
) -> ResponseTimes:
    waits: list[float] = []
    in_target = 0
    to_first: list[float] = []
    for incident_id, raised, registered in incidents:
        if registered > raised:
            waits.append(hours_between(raised, registered))
            in_target += registered - raised <= target
        if incident_id in first_step:
            to_first.append(hours_between(raised, first_step[incident_id]))
    return ResponseTimes(duration_row("to_register", waits), in_target, duration_row("to_first_step", to_first))


def response_times(session: Session, flt: ReportFilter, target: timedelta) -> ResponseTimes:
    registered = (Incident.registered_at.is_not(None), Incident.registered_at >= flt.start,
                  Incident.registered_at < flt.end, *flt.incident_criteria())  # fmt: skip
    query = select(Incident.id, Incident.created_at, Incident.registered_at).where(*registered)
    incidents = list(session.execute(query))
    rows = select_rows(session, FIRST_ACTIONS, AuditEvent.incident_id.in_(select(Incident.id).where(*registered)))
    return response_times_of(incidents, first_steps(rows), target)


def waits(rows: Iterable[AuditRow], start: datetime, end: datetime) -> list[float]:
    transferred: dict[int, datetime] = {}
    hours: list[float] = []
    for row in rows:
        if row.kind == "transferred":
            transferred[row.incident_id] = row.at
        elif row.kind == "change_returned" and row.incident_id in transferred:
            since = transferred.pop(row.incident_id)
            if start <= row.at < end:
                hours.append(hours_between(since, row.at))
    return hours


def change_waits(session: Session, flt: ReportFilter) -> DurationRow:
    returned_in = select(AuditEvent.incident_id).where(
        AuditEvent.kind == "change_returned", AuditEvent.at >= flt.start, AuditEvent.at < flt.end
    )
    incidents = select(Incident.id).where(Incident.id.in_(returned_in), *flt.incident_criteria())
    rows = select_rows(session, ("transferred", "change_returned"), AuditEvent.incident_id.in_(incidents))
    return duration_row("waited_for_change", waits(rows, flt.start, flt.end))


# ---------------------------------------------------------------------------------- workload


def task_spans(events: Iterable[AuditRow]) -> list[TaskSpan]:
    spans = []
    for rows in by_incident(events).values():
        for index, done in enumerate(rows):
            if done.kind == "task_completed":
                spans.append(span_at(rows, index))
    return sorted(spans, key=lambda span: (span.completed_at, span.incident_id))


def completed_tasks(session: Session, flt: ReportFilter) -> list[TaskSpan]:
    completed_in = select(AuditEvent.incident_id).where(
        AuditEvent.kind == "task_completed", AuditEvent.at >= flt.start, AuditEvent.at < flt.end
    )
    incidents = select(Incident.id).where(Incident.id.in_(completed_in), *flt.incident_criteria())
    events = select_rows(session, None, AuditEvent.incident_id.in_(incidents), AuditEvent.at < flt.end)
    roles = flt.roles()
    return [
        span for span in task_spans(events)
        if flt.contains(span.completed_at) and is_staff(span.roles)
        and (roles is None or set(span.roles.split(",")) & set(roles))
    ]  # fmt: skip


def person_totals(spans: Iterable[TaskSpan]) -> dict[int | None, tuple[str, str, Totals]]:
    totals: dict[int | None, tuple[str, str, Totals]] = {}
    for span in spans:  # in completion order: the last name and roles win
        _, _, done = totals.get(span.actor_id, ("", "", Totals(0, 0.0, 0.0)))
        totals[span.actor_id] = (span.actor_name, span.roles, Totals(
            done.completed + 1, done.waiting_hours + span.waiting_hours, done.working_hours + span.working_hours
        ))  # fmt: skip
    return totals


def group_totals(spans: Iterable[TaskSpan]) -> dict[str, Totals]:
    grouped: dict[str, list[TaskSpan]] = {}
    for span in spans:
        grouped.setdefault(span.roles, []).append(span)
    return {
        label: Totals(
            len(items),
            sum(s.waiting_hours for s in items),
            sum(s.working_hours for s in items),
            len({s.actor_id for s in items}),
        )  # fmt: skip
        for label, items in grouped.items()
    }


# ---------------------------------------------------------------------------------- backlog at a moment


@dataclass(frozen=True)
class OpenIncident:
    incident_id: int
    stage: str  # support-group key
    level: str | None


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


def backlog_at(session: Session, flt: ReportFilter, at: datetime) -> Backlog:
    candidates = select(Incident.id).where(
        Incident.created_at <= at,
        or_(Incident.closed_at.is_(None), Incident.closed_at > at),
        *flt.incident_criteria(level=False),
    )
    kinds = ("classified", "reclassified", "dispatched", *_OPEN_AFTER)
    events = select_rows(session, kinds, AuditEvent.incident_id.in_(candidates), AuditEvent.at <= at)
    items = [
        (item.stage, item.level, 1)
        for item in open_at(events, at)
        if flt.group_matches(item.stage) and flt.level_matches(item.level)
    ]
    return summarize_backlog(at, items)
