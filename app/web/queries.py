"""Read-only queries behind the pages: plain indexed columns and the audit log, never a workflow."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import CompoundSelect, Select, bindparam, func, literal, literal_column, or_, select, union_all
from sqlalchemy.orm import Session, contains_eager, joinedload, lazyload, raiseload

from app import audit
from app.audit import Actor
from app.engine.lanes import ALSO_WORKED_BY, REQUESTER_LANES, SERVICE_DESK
from app.models import Announcement, AuditEvent, Incident, OpenTask, ProblemTicket, User
from app.problems.service import tickets_of_incident
from app.web.inputs import id_value
from app.web.paging import COUNT_CAP

# A task's holder as the pages show them: the name, not the account's roles (a query of its own).
ASSIGNEE_NAME = joinedload(OpenTask.assignee).lazyload(User.role_rows)
# A list row never loads its incident's process version (~120 KB of diagram and forms) by accident:
# touching it raises (the engine state lives in its own table and no list reads it).
LIST_OPTIONS = (raiseload(Incident.process_version),)


@dataclass(frozen=True)
class InboxFilter:
    type: str | None = None
    level: str | None = None
    emergency: bool = False
    mine: bool = False


# The inbox's order: by deadline, tasks without one last, then oldest first. Each part of the inbox
# reads it from its own index (migration 0030), so a page reads that page's rows, not every open task.
INBOX_ORDER = (OpenTask.due_at.asc().nulls_last(), OpenTask.created_at, OpenTask.id)


def inbox_query(
    actor: Actor, filters: InboxFilter, offset: int, limit: int, ranges: Sequence[Sequence[Any]] = ((),)
) -> Select:
    """Open tasks the user may work: unclaimed ones of their roles and those assigned to them,
    ordered by deadline (tasks without one last), `limit` of them from `offset`. Requester tasks of
    people without an account appear for the service desk, who confirm on their behalf.

    Read as the disjoint parts of `_inbox_parts`, each along its own index in the inbox's order and
    cut at `offset + limit`, merged, then cut to the page: one OR read every open task of the role up
    to the page's rows (docs/bench.md). `ranges`: stretches of the order to read (each a list of
    conditions, each part read once per stretch): the API's cursor continues after a row with them."""
    first = offset + limit
    cut = [select(OpenTask.id, OpenTask.due_at, OpenTask.created_at).where(*part, *stretch)
           .order_by(*INBOX_ORDER).limit(first).subquery()
           for part in _inbox_parts(actor, filters) for stretch in ranges]  # fmt: skip
    merged = union_all(*(select(part.c.id, part.c.due_at, part.c.created_at) for part in cut)).subquery()
    page = (
        select(merged.c.id)
        .order_by(merged.c.due_at.asc().nulls_last(), merged.c.created_at, merged.c.id)
        .limit(limit)
        .offset(offset)
    )
    return (
        select(OpenTask)
        .join(OpenTask.incident)
        .where(OpenTask.id.in_(page))
        .options(contains_eager(OpenTask.incident).raiseload(Incident.process_version), ASSIGNEE_NAME)
        .order_by(*INBOX_ORDER)
    )


def inbox_page(actor: Actor, filters: InboxFilter) -> Callable[[int, int], Select]:
    """The inbox for app.web.paging: a page's rows from its offset and length."""
    return partial(inbox_query, actor, filters)


def inbox_rows(actor: Actor, filters: InboxFilter = InboxFilter()) -> CompoundSelect:
    """The same tasks as `inbox_query`, at most `cap` + 1 of each part: what a count reads
    (app.web.paging caps it again)."""
    return _capped_parts(actor, filters, COUNT_CAP)


def inbox_count_query(actor: Actor) -> Select:
    """The menu's badge, on every page: a count, not the tasks, up to COUNT_CAP + 1 (the badge then
    says "more than"; app.live.service caps it again with the mentions and checks). The parts' union is cut
    too, as a page's count is: a role with several parts read up to COUNT_CAP + 1 entries of each."""
    counted = _capped_parts(actor, InboxFilter(), COUNT_CAP).subquery()
    return select(func.count()).select_from(select(counted.c.one).limit(COUNT_CAP + 1).subquery())


def _capped_parts(actor: Actor, filters: InboxFilter, cap: int) -> CompoundSelect:
    # each part cut on its own (a LIMIT inside a UNION member needs its own subquery on SQLite)
    # `SELECT 1`: a part's index holds every column it filters on, so the count never reads the table
    parts = [select(literal(1).label("one")).select_from(OpenTask).where(*part).limit(cap + 1).subquery()
             for part in _inbox_parts(actor, filters)]  # fmt: skip
    return union_all(*(select(part.c.one) for part in parts))


def _inbox_parts(actor: Actor, filters: InboxFilter) -> list[list[Any]]:
    """The inbox as disjoint parts, each one that an index finds in the inbox's order (migration
    0030): tasks assigned to the user; unclaimed tasks of each of their roles; unclaimed tasks of
    each kind their roles also work (ALSO_WORKED_BY); for the service desk, unclaimed tasks of each
    requester lane (confirmed on the requester's behalf). Counted as one OR, the database scanned
    every open task of the role (docs/bench.md)."""
    extra = []
    # a filter's value is written into the statement: for the prepared statement psycopg makes of a page
    # asked often, PostgreSQL's generic plan (any type, any level) took 67 ms at 100,000 incidents against
    # 26 ms planned for the value (docs/bench.md); there are a handful of values, so a handful of plans
    # the incident's type, level and flag as copied onto its tasks, read from each part's index (migration 0042):
    # through the incidents, a filter that kept few tasks read every task of the part and its incident
    if filters.type:
        extra.append(OpenTask.incident_type == bindparam("type", filters.type, literal_execute=True))
    if filters.level:
        extra.append(OpenTask.incident_level == bindparam("level", filters.level, literal_execute=True))
    if filters.emergency:
        extra.append(OpenTask.emergency.is_(True))
    parts = [[OpenTask.assignee_id == actor.user_id]]
    if not filters.mine:
        unclaimed = OpenTask.assignee_id.is_(None)
        roles = sorted(actor.roles)
        other_role = or_(OpenTask.candidate_role.is_(None), OpenTask.candidate_role.not_in(roles))
        also = [spec for spec, worked_by in ALSO_WORKED_BY.items() if actor.roles & set(worked_by)]
        parts += [[unclaimed, OpenTask.candidate_role == role] for role in roles]
        parts += [[unclaimed, OpenTask.spec_id == spec, other_role] for spec in also]
        if SERVICE_DESK in actor.roles:
            not_also = [OpenTask.spec_id.not_in(also)] if also else []
            parts += [[unclaimed, OpenTask.lane == lane, other_role, *not_also] for lane in REQUESTER_LANES]
    return [[*part, *extra] for part in parts]


@dataclass(frozen=True)
class IncidentFilter:
    text: str | None = None
    status: str | None = None
    type: str | None = None
    level: str | None = None
    emergency: bool = False
    breached: bool = False
    requester_id: int | None = None


def incident_query(filters: IncidentFilter) -> Select:
    """The incidents matching the filters, newest first (the list page; the API pages through it)."""
    query = select(Incident).options(*LIST_OPTIONS).order_by(Incident.created_at.desc(), Incident.id.desc())
    if filters.text:
        pattern = f"%{filters.text}%"
        number = parse_number(filters.text)
        condition = or_(
            Incident.title.ilike(pattern), Incident.system.ilike(pattern), Incident.ops_ticket.ilike(pattern)
        )
        query = query.where(or_(condition, Incident.id == number) if number else condition)
    for column, value in (
        (Incident.status, filters.status),
        (Incident.type, filters.type),
        (Incident.level, filters.level),
        (Incident.requester_id, filters.requester_id),
    ):
        if value is not None and value != "":
            query = query.where(column == value)
    if filters.emergency:
        query = query.where(Incident.emergency.is_(True))
    if filters.breached:
        query = query.where(Incident.breached.is_(True))
    return query


def parse_number(text: str) -> int | None:
    """The id in an incident number as people type it: "INC000012", "inc12", "12"."""
    return id_value(text.strip().upper().removeprefix("INC"))


@dataclass
class IncidentView:
    incident: Incident
    assessment: dict[str, Any] | None
    open_tasks: list[OpenTask]
    timeline: list[AuditEvent]
    announcements: list[Announcement]
    problem_tickets: list[ProblemTicket]
    parent: Incident | None
    follow_ups: list[Incident]
    requester: User | None


def incident_view(session: Session, incident_id: int, incident: Incident | None = None) -> IncidentView | None:
    """Everything the incident page shows; the stored workflow text is not even read. `incident`: its row,
    when the caller has just read it (a task page, with its task)."""
    incident = incident or _incident(session, incident_id)
    if incident is None:
        return None
    timeline = audit.events_of(session, incident_id)
    classifications = (audit.data_of(e) for e in reversed(timeline) if e.kind in ("classified", "reclassified"))
    assessment = next((data["assessment"] for data in classifications if "assessment" in data), None)
    return IncidentView(
        incident=incident,
        assessment=assessment,
        open_tasks=open_tasks(session, incident_id),
        timeline=timeline,
        announcements=_of(session, Announcement, incident_id, Announcement.published_at.desc()),
        problem_tickets=tickets_of_incident(session, incident_id),  # raised from it or linked to it
        parent=_incident(session, incident.parent_id) if incident.parent_id else None,
        follow_ups=list(session.scalars(select(Incident).where(Incident.parent_id == incident_id))),
        requester=session.get(User, incident.requester_id) if incident.requester_id else None,
    )


# Statements every task page, task POST, API completion or incident page runs, built once and bound when
# they run (app.accounts.sessions.CURRENT says why)
_OPEN_TASKS = (
    select(OpenTask)
    .where(OpenTask.incident_id == bindparam("incident_id"))
    .options(ASSIGNEE_NAME)
    .order_by(OpenTask.created_at)
)
_TASK = (
    select(OpenTask).where(OpenTask.id == bindparam("task_id")).options(joinedload(OpenTask.incident), ASSIGNEE_NAME)
)


def open_tasks(session: Session, incident_id: int) -> list[OpenTask]:
    """The incident's open tasks, oldest first, with their holders' names."""
    return list(session.scalars(_OPEN_TASKS, {"incident_id": incident_id}))


def task_of(session: Session, incident_id: int, task_id: str) -> OpenTask | None:
    """An open task of the incident with the incident and its holder's name; None for an id that is not one."""
    if len(task_id) > 36:  # a task id is a UUID: anything longer is not one, and not worth a statement
        return None
    row = session.scalars(_TASK, {"task_id": task_id}).first()
    return row if row is not None and row.incident_id == incident_id else None


def _incident(session: Session, incident_id: int) -> Incident | None:
    return session.scalar(select(Incident).where(Incident.id == incident_id))


def _of(session: Session, model: Any, incident_id: int, order: Any) -> list[Any]:
    return list(session.scalars(select(model).where(model.incident_id == incident_id).order_by(order)))


def assignable_users(session: Session, roles: Iterable[str]) -> list[User]:
    from app.models import UserRole

    query = (
        select(User)
        .join(UserRole)
        .where(UserRole.role.in_(list(roles)), User.active.is_(True))
        .order_by(User.display_name)
        .distinct()
        .options(lazyload(User.role_rows))  # a list of names to choose from
    )
    return list(session.scalars(query))


# ---------------------------------------------------------------- portal, incident manager, overview, admin

MANAGER_TASKS = ("track_incident", "follow_up_warning", "follow_up_breach", "notify_fault", "coordinate_emergency")


def requester_task_query(user_id: int) -> Select:
    """Open tasks of the requester lane (confirm the resolution) on the incidents this user raised."""
    return (
        select(OpenTask)
        .join(OpenTask.incident)
        .where(Incident.requester_id == user_id, OpenTask.lane.in_(REQUESTER_LANES))
        .options(contains_eager(OpenTask.incident).raiseload(Incident.process_version))
        .order_by(OpenTask.created_at, OpenTask.id)
    )


# 'open' written into the statement: a partial index over open incidents (migration 0032) serves a statement
# only when PostgreSQL sees the value, which the generic plan of a prepared statement does not
IS_OPEN = Incident.status == literal_column("'open'")
DEADLINE_ORDER = (Incident.due_at.asc().nulls_last(), Incident.id)


def _by_deadline(query: Select) -> Select:
    return query.options(*LIST_OPTIONS).order_by(*DEADLINE_ORDER)


def emergencies_query() -> Select:
    return _by_deadline(select(Incident).where(IS_OPEN, Incident.emergency.is_(True)))


def core_impact_query() -> Select:
    """Open incidents registered with "core business affected?" 不确定 and not confirmed since."""
    return _by_deadline(select(Incident).where(IS_OPEN, Incident.core_impact_unconfirmed.is_(True)))


def _deadline_parts(now: Any, *, close: bool) -> list[list[Any]]:
    """Open incidents past their deadline (or marked breached) and, with `close`, those past their warning
    time only, as disjoint parts that each an index finds (migration 0032): due by now (the deadline index),
    marked breached with a later deadline or none, and — not in deadline order: the incidents past their
    warning time and not marked breached, a few unless the timers lag — close to it. One OR walked every
    open incident in deadline order, and a count every one past its deadline (docs/bench.md)."""
    breached, unmarked = Incident.breached.is_(True), Incident.breached.is_(False)
    parts = [
        [IS_OPEN, Incident.due_at <= now],
        [IS_OPEN, breached, Incident.due_at > now],
        [IS_OPEN, breached, Incident.due_at.is_(None)],
    ]
    if close:
        later = or_(Incident.due_at > now, Incident.due_at.is_(None))
        parts.append([IS_OPEN, unmarked, Incident.warn_at <= now, later])
    return parts


def at_risk_query(now: Any, *, breached_only: bool = False) -> Callable[[int, int], Select]:
    """Open incidents past their deadline (or marked breached), and, unless `breached_only`, those
    past their warning time; the nearest deadline first. For app.web.paging: a page's rows from its
    offset and length, each part read in deadline order and cut at the page's last row, then merged."""
    parts = _deadline_parts(now, close=not breached_only)

    def page(offset: int, limit: int) -> Select:
        cut = [select(Incident.id, Incident.due_at).where(*part).order_by(*DEADLINE_ORDER).limit(offset + limit)
               .subquery() for part in parts]  # fmt: skip
        merged = union_all(*(select(part.c.id, part.c.due_at) for part in cut)).subquery()
        ids = select(merged.c.id).order_by(merged.c.due_at.asc().nulls_last(), merged.c.id).limit(limit).offset(offset)
        return _by_deadline(select(Incident).where(Incident.id.in_(ids)))

    return page


def at_risk_rows(now: Any, *, breached_only: bool = False, close_only: bool = False) -> CompoundSelect:
    """What counts `at_risk_query`'s incidents (or, `close_only`, those past their warning time only): each
    part cut at COUNT_CAP + 1, from its index alone (app.web.paging caps the sum again)."""
    parts = _deadline_parts(now, close=not breached_only)
    parts = parts[-1:] if close_only else parts
    cut = [select(literal(1).label("one")).select_from(Incident).where(*part).limit(COUNT_CAP + 1).subquery()
           for part in parts]  # fmt: skip
    return union_all(*(select(part.c.one) for part in cut))


def capped_count(session: Session, rows: Select | CompoundSelect) -> int:
    """How many rows, up to COUNT_CAP + 1 (shown as "1000+")."""
    counted = rows.limit(COUNT_CAP + 1).subquery()
    return session.scalar(select(func.count()).select_from(counted)) or 0


def role_tasks_query(role: str, spec_ids: Iterable[str]) -> Select:
    """Open tasks of these kinds for a role, claimed or not, by deadline."""
    return (
        select(OpenTask)
        .join(OpenTask.incident)
        .where(OpenTask.candidate_role == role, OpenTask.spec_id.in_(list(spec_ids)))
        .options(contains_eager(OpenTask.incident).raiseload(Incident.process_version), ASSIGNEE_NAME)
        .order_by(OpenTask.due_at.asc().nulls_last(), OpenTask.created_at, OpenTask.id)
    )


def tasks_on(session: Session, role: str, spec_ids: Iterable[str], incident_ids: Iterable[int]) -> list[OpenTask]:
    """Open tasks of these kinds for a role on these incidents (the console's rows), by the incident's
    index: no join, nothing more than the task (joined to every account, the plan hashed all of them)."""
    ids = list(incident_ids)
    if not ids:
        return []
    query = (
        select(OpenTask)
        .where(OpenTask.incident_id.in_(ids), OpenTask.candidate_role == role, OpenTask.spec_id.in_(list(spec_ids)))
        .options(lazyload(OpenTask.assignee), raiseload(OpenTask.incident))
        .order_by(OpenTask.due_at.asc().nulls_last(), OpenTask.created_at, OpenTask.id)
    )
    return list(session.scalars(query))


def latest_announcements(session: Session, incident_ids: Iterable[int]) -> dict[int, Announcement]:
    """The newest announcement of each of these incidents (those that have one)."""
    ids = list(incident_ids)
    if not ids:
        return {}
    query = (
        select(Announcement)
        .where(Announcement.incident_id.in_(ids))
        .order_by(Announcement.published_at, Announcement.id)
    )
    return {announcement.incident_id: announcement for announcement in session.scalars(query)}


def recent_announcements(session: Session, limit: int = 20) -> list[tuple[Announcement, Incident]]:
    """The newest announcements, read from their index newest first (migration 0032)."""
    query = (
        select(Announcement, Incident)
        .join(Incident, Incident.id == Announcement.incident_id)
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
        .limit(limit)
    )
    return [(announcement, incident) for announcement, incident in session.execute(query).all()]


def created_between_query(start: Any, end: Any) -> Select:
    query = select(Incident).where(Incident.created_at >= start, Incident.created_at < end)
    return query.options(*LIST_OPTIONS).order_by(Incident.created_at.desc(), Incident.id.desc())


def users_query() -> Select:
    return select(User).order_by(User.username, User.id)
