"""Workload per person and per group (人力资源利用情况), from the audit trail and the open tasks.

A completed task is a `task_completed` audit row in the period, credited to its actor (the person
who completed it, also when someone else claimed it first) and to the roles recorded on that row
(`actor_role`, the person's roles at that moment, comma-joined for people with several roles).

Its time is split in two, from audit rows of the same incident (the engine keeps no creation time
once a task is done, so the moment it became ready is approximated):
- ready: the last audit row before the completion that makes a task of that kind ready
  (`READY_AFTER`, e.g. the last `dispatched` for a handling step, the `resolved` row for the
  requester's confirmation); for a task kind not in the table, the last row of the incident before
  the task's first own row (claim or completion) other than a claim, release or assignment;
- taken: the first `task_claimed`/`task_assigned` row of that kind between ready and completion
  (a step interrupted by new facts is re-created with the same person: the claim of the first
  copy counts);
- waiting = taken − ready, working = completed − taken; never claimed nor assigned (completed
  straight from the queue, or a task that comes back to the same person): waiting 0, all working.
Tasks abandoned without completion (cancelled by re-classification) are not counted.

A span is worked out once, when its completion is written (`span_at`, kept in `report_task_spans`
by `app.reports.rollup`); the reports sum the spans of the period in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from app.links.models import is_child
from app.models import OpenTask, User, UserRole
from app.reports.counted import Request, counted_of
from app.reports.counters import NOT_STAFF, TASK
from app.reports.events import AuditRow
from app.reports.filters import ReportFilter
from app.reports.models import ReportTaskSpan
from app.users import ROLES

_HANDLING = ("dispatched", "reopened", "announced")
READY_AFTER: dict[str, tuple[str, ...]] = {
    "register_incident": ("started",),
    "initial_support": _HANDLING,
    "first_line_handling": _HANDLING,
    "second_line_handling": _HANDLING,
    "coordinate_emergency": _HANDLING,
    "confirm_resolution": ("resolved",),
    "close_incident": ("task_completed:confirm_resolution", "task_completed:follow_up_confirmation"),
    "follow_up_confirmation": ("confirmation_unanswered",),
    "notify_fault": ("notification_duty",),
    "follow_up_warning": ("deadline_warning",),
    "follow_up_breach": ("deadline_breach",),
    "track_incident": ("forwarded_for_tracking",),
}
TRIGGERS = {spec: frozenset(kinds) for spec, kinds in READY_AFTER.items()}
ASSIGNMENT_KINDS = ("task_claimed", "task_released", "task_assigned")
TAKEN_KINDS = ("task_claimed", "task_assigned")


@dataclass(frozen=True)
class TaskSpan:
    incident_id: int
    task_id: str | None
    spec_id: str | None
    actor_id: int | None
    actor_name: str
    roles: str  # actor_role of the completion
    ready_at: datetime
    taken_at: datetime | None
    completed_at: datetime
    waiting_hours: float
    working_hours: float


@dataclass(frozen=True)
class PersonWorkload:
    actor_id: int | None
    name: str
    roles: str
    completed: int
    waiting_hours: float  # totals over the tasks completed in the period
    working_hours: float
    mean_waiting_hours: float | None  # per completed task; None when none
    mean_working_hours: float | None
    open_assigned: int  # open tasks assigned to the person now


@dataclass(frozen=True)
class GroupWorkload:
    group: str  # roles label as recorded (open tasks: their candidate role)
    people: int  # active accounts that hold the group's roles now (its headcount)
    contributors: int  # distinct people who completed tasks in the period
    completed: int
    waiting_hours: float
    working_hours: float
    mean_waiting_hours: float | None
    mean_working_hours: float | None
    open_assigned: int  # open tasks of the role, assigned to someone
    open_unassigned: int  # open tasks of the role waiting in the queue


def signatures(row: AuditRow) -> set[str]:
    signatures = {row.kind}
    if row.kind == "task_completed":
        signatures.add(f"task_completed:{row.spec_id}")
    if row.notification_duty:
        signatures.add("notification_duty")
    return signatures


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def span_at(rows: list[AuditRow], index: int) -> TaskSpan:
    """The span of the completion rows[index], from the incident's rows before it (chain order)."""
    done = rows[index]
    triggers = TRIGGERS.get(done.spec_id or "")
    ready = None
    if triggers:
        ready = next((i for i in range(index - 1, -1, -1) if signatures(rows[i]) & triggers), None)
    if ready is not None:
        taken = next(
            (row for row in rows[ready + 1 : index] if row.kind in TAKEN_KINDS and row.spec_id == done.spec_id), None
        )
        ready_at = rows[ready].at
    else:  # a task kind the table does not know (or no trigger found): see the module docstring
        own = [i for i in range(index) if done.task_id is not None and rows[i].task_id == done.task_id]
        first = own[0] if own else index
        previous = next((i for i in range(first - 1, -1, -1) if rows[i].kind not in ASSIGNMENT_KINDS), None)
        ready_at = rows[first if previous is None else previous].at
        taken = next((rows[i] for i in own if rows[i].kind in TAKEN_KINDS), None)
    return span_of(done, ready_at, taken.at if taken is not None else None)


def span_of(done: AuditRow, ready_at: datetime, taken_at: datetime | None) -> TaskSpan:
    """The span of the completion `done` that became ready at `ready_at` and was taken at `taken_at`."""
    start_work = taken_at if taken_at is not None else ready_at
    return TaskSpan(
        done.incident_id,
        done.task_id,
        done.spec_id,
        done.actor_id,
        done.actor_name,
        done.actor_role,
        ready_at,
        taken_at,
        done.at,
        _hours(ready_at, start_work),
        _hours(start_work, done.at),
    )


def _mean(total: float, count: int) -> float | None:
    return None if count == 0 else round(total / count, 2)


def _role_position(label: str) -> tuple[int, str]:
    first = label.split(",")[0]
    return (ROLES.index(first) if first in ROLES else len(ROLES), label)


@dataclass(frozen=True)
class Totals:
    """Tasks completed by a person or a group, with their hours (summed by the database)."""

    completed: int
    waiting_hours: float
    working_hours: float
    contributors: int = 1  # distinct people who completed them


NO_TASKS = Totals(0, 0.0, 0.0, 0)


def person_rows(
    totals: Mapping[int | None, tuple[str, str, Totals]],
    open_assigned: Mapping[int, int] = {},
    people: Mapping[int, tuple[str, str]] = {},
) -> list[PersonWorkload]:
    """Per person: tasks completed with their waiting and working hours, and open tasks assigned now.

    `totals`: user id → (name, roles of their latest completion, totals); `open_assigned`: user id →
    open tasks assigned; `people`: user id → (name, roles) for people with open tasks but no
    completion. Most completed first.
    """
    everyone = dict(totals)
    for user_id in open_assigned:
        if user_id not in everyone:
            name, roles = people.get(user_id, (str(user_id), ""))
            everyone[user_id] = (name, roles, NO_TASKS)
    rows = [
        PersonWorkload(
            actor_id,
            name,
            roles,
            done.completed,
            round(done.waiting_hours, 2),
            round(done.working_hours, 2),
            _mean(done.waiting_hours, done.completed),
            _mean(done.working_hours, done.completed),
            open_assigned.get(actor_id, 0) if actor_id is not None else 0,
        )
        for actor_id, (name, roles, done) in everyone.items()
    ]
    return sorted(rows, key=lambda row: (-row.completed, row.name, row.actor_id or 0))


def group_rows(
    totals: Mapping[str, Totals], open_tasks: Mapping[str, tuple[int, int]] = {}, members: Mapping[str, int] = {}
) -> list[GroupWorkload]:
    """Per roles label: headcount (`members`: label → active accounts with those roles), people who
    completed tasks, tasks completed, waiting and working hours (`totals`); open tasks of the role now
    (`open_tasks`: role → (assigned, unassigned))."""
    labels = set(totals) | set(open_tasks)
    rows = []
    for label in sorted(labels, key=_role_position):
        done = totals.get(label, NO_TASKS)
        rows.append(
            GroupWorkload(
                label,
                members.get(label, 0),
                done.contributors,
                done.completed,
                round(done.waiting_hours, 2),
                round(done.working_hours, 2),
                _mean(done.waiting_hours, done.completed),
                _mean(done.working_hours, done.completed),
                *open_tasks.get(label, (0, 0)),
            )
        )
    return rows


# ---------------------------------------------------------------------------------- queries


def _completed_in(flt: ReportFilter) -> list[ColumnElement[bool]]:
    """The roll-up's tasks completed in the period, of incidents of the filter's type and current level,
    by the team (not requesters) and, when the filter names a group, by people holding its roles."""
    criteria = [
        ReportTaskSpan.completed_at >= flt.start,
        ReportTaskSpan.completed_at < flt.end,
        *flt.of_incidents(ReportTaskSpan.incident_id),
        ReportTaskSpan.roles.not_in(NOT_STAFF),
    ]
    roles = flt.roles()
    if roles is not None:  # a roles label is its roles comma-joined: match one whole role in it
        label = literal(",").concat(ReportTaskSpan.roles).concat(",")
        criteria.append(or_(*(label.like(f"%,{role},%") for role in roles)))
    return criteria


def completed_tasks(session: Session, flt: ReportFilter) -> list[TaskSpan]:
    """The tasks completed in the period (`_completed_in`), in completion order, from the roll-up."""
    query = (
        select(ReportTaskSpan)
        .where(*_completed_in(flt))
        .order_by(ReportTaskSpan.completed_at, ReportTaskSpan.incident_id, ReportTaskSpan.audit_id)
    )
    return [
        TaskSpan(
            span.incident_id,
            None,
            span.spec_id,
            span.actor_id,
            span.actor_name,
            span.roles,
            span.ready_at,
            span.taken_at,
            span.completed_at,
            span.waiting_seconds / 3600,
            span.working_seconds / 3600,
        )  # fmt: skip
        for span in session.scalars(query)
    ]


TASKS: Request = (TASK, ("grp", "person"), None, False, True)  # the counters `task_counts` reads
OpenTasks = list[tuple[str | None, int | None, int]]  # (candidate role, assignee, open tasks)
TaskCounts = dict[tuple[str, int], list[int]]  # (roles label, person) → [n, _, working µs, waiting µs]


def open_tasks(session: Session, flt: ReportFilter) -> OpenTasks:
    """Open tasks now, counted per (candidate role, assignee), of incidents of the filter's type and
    level and of the filter's group's roles (the team's: not the requesters' confirmations): what both
    workload tables read (read it once for both)."""
    roles = flt.roles()
    columns = (OpenTask.candidate_role, OpenTask.assignee_id)
    of_role = OpenTask.candidate_role.not_in(NOT_STAFF) if roles is None else OpenTask.candidate_role.in_(roles)
    if flt.type is not None or flt.level is not None:  # the incidents are read only when the filter names them
        narrowed = select(*columns, func.count()).where(of_role, *flt.of_incidents(OpenTask.incident_id))
        return list(session.execute(narrowed.group_by(*columns)))
    # One pass over the open tasks, less those of children of major incidents (few, found by their links):
    # the same figure as a NOT EXISTS per open task, which cost 20 ms at 39,174 open tasks against 8.
    every = select(*columns, func.count()).where(of_role).group_by(*columns)
    children = select(*columns, -func.count()).where(of_role, is_child(OpenTask.incident_id)).group_by(*columns)
    counts: dict[tuple[str | None, int | None], int] = {}
    for role, assignee_id, count in session.execute(union_all(every, children)):
        counts[role, assignee_id] = counts.get((role, assignee_id), 0) + count
    return [(role, assignee_id, count) for (role, assignee_id), count in counts.items() if count]


def task_counts(session: Session, flt: ReportFilter) -> TaskCounts:
    """The counters of the tasks completed in the period (`_completed_in`) per (roles label, person):
    what both workload tables read (read it once for both)."""
    roles = flt.roles()
    found = counted_of(session, flt, TASKS)
    return {
        (label, person): values for (label, person), values in found.items()
        if roles is None or set(label.split(",")) & set(roles)
    }  # fmt: skip


PersonTotals = dict[int | None, tuple[str, str, Totals]]


def person_totals(session: Session, flt: ReportFilter, done: TaskCounts) -> PersonTotals:
    """Per person: the totals (counters), then the name and roles of their latest completion (one
    indexed look-up per person, all in one statement; ties go to the later incident and row)."""
    per_person: dict[int | None, list[int]] = {}
    for (_, person), (n, _, working, waiting) in done.items():
        total = per_person.setdefault(person or None, [0, 0, 0])
        total[0] += n
        total[1] += waiting
        total[2] += working
    people = [actor_id for actor_id, (count, _, _) in per_person.items() if count]
    if not people:
        return {}
    criteria = _completed_in(flt)
    latest = [
        select(ReportTaskSpan.actor_id, ReportTaskSpan.actor_name, ReportTaskSpan.roles)
        .where(*criteria, ReportTaskSpan.actor_id.is_(None) if actor_id is None
               else ReportTaskSpan.actor_id == actor_id)
        .order_by(ReportTaskSpan.completed_at.desc(), ReportTaskSpan.incident_id.desc(),
                  ReportTaskSpan.audit_id.desc())
        .limit(1)
        .subquery()  # a part of a UNION with its own ORDER BY and LIMIT (SQLite wants it in a subquery)
        for actor_id in people
    ]  # fmt: skip
    parts = [select(*part.c) for part in latest]
    found = {row[0]: row[1:] for row in session.execute(parts[0] if len(parts) == 1 else union_all(*parts))}
    result = {}
    for actor_id in people:
        count, waiting, working = per_person[actor_id]
        name, roles = found[actor_id]
        result[actor_id] = (name, roles, Totals(count, waiting / 3.6e9, working / 3.6e9))
    return result


def _group_totals(done: TaskCounts) -> dict[str, Totals]:
    per_group: dict[str, list] = {}
    for (label, person), (n, _, working, waiting) in done.items():
        if not n:
            continue
        total = per_group.setdefault(label, [0, 0, 0, set()])
        total[0] += n
        total[1] += waiting
        total[2] += working
        total[3].add(person)  # the system (person 0) counts as one
    return {
        label: Totals(count, waiting / 3.6e9, working / 3.6e9, len(people))
        for label, (count, waiting, working, people) in per_group.items()
    }


def workload_by_person(
    session: Session,
    flt: ReportFilter,
    open_now: OpenTasks | None = None,
    done: TaskCounts | None = None,
    totals: PersonTotals | None = None,
) -> list[PersonWorkload]:
    """Per person: tasks completed in the period, waiting and working hours, open tasks assigned now
    (of incidents of the filter's type and current level; the filter's group selects people by role
    and open tasks by candidate role). `open_now`, `done`, `totals`: `open_tasks`, `task_counts`,
    `person_totals`, when already read (the names and roles of people with open tasks are read here)."""
    open_assigned: dict[int, int] = {}
    for _, assignee_id, count in open_tasks(session, flt) if open_now is None else open_now:
        if assignee_id is not None:
            open_assigned[assignee_id] = open_assigned.get(assignee_id, 0) + count
    people: dict[int, tuple[str, str]] = {}
    if open_assigned:
        names = session.execute(select(User.id, User.display_name).where(User.id.in_(open_assigned)))
        roles: dict[int, list[str]] = {}
        for user_id, role in session.execute(select(UserRole.user_id, UserRole.role).where(
            UserRole.user_id.in_(open_assigned)
        )):  # fmt: skip
            roles.setdefault(user_id, []).append(role)
        people = {user_id: (name, ",".join(sorted(roles.get(user_id, [])))) for user_id, name in names}
    if totals is None:
        totals = person_totals(session, flt, task_counts(session, flt) if done is None else done)
    return person_rows(totals, open_assigned, people)


def workload_by_group(
    session: Session, flt: ReportFilter, open_now: OpenTasks | None = None, done: TaskCounts | None = None
) -> list[GroupWorkload]:
    """Per roles label: people, tasks completed in the period, waiting and working hours, and the open
    tasks of each candidate role now (assigned / still in the queue). `open_now`, `done`: `open_tasks`,
    `task_counts`, when already read."""
    by_role: dict[str, tuple[int, int]] = {}
    for role, assignee_id, count in open_tasks(session, flt) if open_now is None else open_now:
        assigned, unassigned = by_role.get(role or "", (0, 0))
        if assignee_id is None:
            unassigned += count
        else:
            assigned += count
        by_role[role or ""] = (assigned, unassigned)
    totals = _group_totals(task_counts(session, flt) if done is None else done)
    return group_rows(totals, by_role, _headcounts(session, set(totals) | set(by_role)))


def _headcounts(session: Session, labels: Iterable[str]) -> dict[str, int]:
    """Roles label → active accounts holding every role of it."""
    wanted = {label: [role for role in label.split(",") if role] for label in labels}
    named = {role for roles in wanted.values() for role in roles}
    holders: dict[str, set[int]] = {}
    if named:  # the labels' roles only: not the requesters, who are most accounts
        query = select(UserRole.role, UserRole.user_id).join(User, User.id == UserRole.user_id)
        for role, user_id in session.execute(query.where(User.active.is_(True), UserRole.role.in_(named))):
            holders.setdefault(role, set()).add(user_id)
    return {
        label: len(set.intersection(*(holders.get(role, set()) for role in roles))) if roles else 0
        for label, roles in wanted.items()
    }
