"""Searching every instance for auditors: the filter read from the query string and the query over
the incidents' list columns and the audit rows (never a workflow)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, raiseload

from app.audit import SYSTEM
from app.incidents.projection import STATUSES
from app.models import AuditEvent, Incident, ProcessVersion, User
from app.web import queries
from app.web.timefmt import FIRST_DAY, LAST_DAY, zone

# the roles whose people (or the system) act on incidents
ACTING_ROLES = (
    "requester",
    "service_desk",
    "first_line",
    "second_line_dev",
    "second_line_test",
    "second_line_is",
    "incident_manager",
    "system",
)
STATUS_CODES = STATUSES
TYPE_CODES = ("fault", "complaint", "request", "consultation", "security")
LEVEL_CODES = ("black", "red", "orange", "yellow", "minor")


@dataclass(frozen=True)
class AuditFilter:
    text: str = ""
    registered_from: date | None = None
    registered_to: date | None = None
    type: str = ""
    level: str = ""
    status: str = ""
    breached: bool = False
    emergency: bool = False
    role: str = ""
    person: str = ""

    def args(self) -> dict[str, str]:
        """The filter as query-string arguments (for links that keep it)."""
        values = {
            "q": self.text,
            "from": self.registered_from.isoformat() if self.registered_from else "",
            "to": self.registered_to.isoformat() if self.registered_to else "",
            "type": self.type,
            "level": self.level,
            "status": self.status,
            "breached": "1" if self.breached else "",
            "emergency": "1" if self.emergency else "",
            "role": self.role,
            "person": self.person,
        }
        return {key: value for key, value in values.items() if value}


def read_filter(args: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """The filter from the query string; dates that do not parse are named in `errors` and left out."""
    errors: dict[str, str] = {}

    def day(name: str) -> date | None:
        text = (args.get(name) or "").strip()
        if not text:
            return None
        try:
            value = date.fromisoformat(text)
        except ValueError:
            value = None
        if value is None or not FIRST_DAY <= value <= LAST_DAY:
            errors[name] = _("Enter a date like 2026-03-02.")
            return None
        return value

    filters = AuditFilter(
        text=(args.get("q") or "").strip(),
        registered_from=day("from"),
        registered_to=day("to"),
        type=args.get("type") or "",
        level=args.get("level") or "",
        status=args.get("status") or "",
        breached=args.get("breached") == "1",
        emergency=args.get("emergency") == "1",
        role=args.get("role") or "",
        person=(args.get("person") or "").strip(),
    )
    return filters, errors


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone())


def _has_role(role: str):
    """actor_role is the acting roles joined by commas: match the whole role, not a part of one."""
    column = AuditEvent.actor_role
    return or_(
        column == role,
        column.like(f"{role},%"),
        column.like(f"%,{role}"),
        column.like(f"%,{role},%"),
    )


def _person(session: Session, text: str):
    """Rows of the accounts with this user name (any case) or a display name containing it, and of
    the system when the text is part of "system": by account, so that an index finds them. The
    accounts are looked up first and their ids written into the statement: with a subquery the
    planner guessed a few thousand rows for a person with 75,000 and read them all (docs/bench.md)."""
    people = select(User.id).where(
        or_(func.lower(User.username) == text.lower(), User.display_name.ilike(_pattern(text), escape="\\"))
    )
    ids = list(session.scalars(people))
    condition = AuditEvent.actor_id.in_(bindparam("people", ids, expanding=True, literal_execute=True))
    return or_(condition, AuditEvent.actor_id.is_(None)) if text.lower() in SYSTEM.name else condition


def _pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_query(session: Session, filters: AuditFilter) -> Select:
    """Incidents matching the filter, newest first (list columns only: no diagram; no engine state)."""
    query = select(Incident).options(raiseload(Incident.process_version))
    registered = func.coalesce(Incident.registered_at, Incident.created_at)
    if filters.registered_from:
        query = query.where(registered >= _start_of(filters.registered_from))
    if filters.registered_to:
        query = query.where(registered < _start_of(filters.registered_to + timedelta(days=1)))
    for column, value in ((Incident.type, filters.type), (Incident.level, filters.level),
                          (Incident.status, filters.status)):  # fmt: skip
        if value:
            query = query.where(column == value)
    if filters.breached:
        query = query.where(Incident.breached.is_(True))
    if filters.emergency:
        query = query.where(Incident.emergency.is_(True))
    if filters.text:
        pattern = _pattern(filters.text)
        condition = or_(Incident.title.ilike(pattern, escape="\\"), Incident.system.ilike(pattern, escape="\\"))
        number = queries.parse_number(filters.text)
        query = query.where(or_(condition, Incident.id == number) if number is not None else condition)
    if filters.role or filters.person:
        # one audit row where this person acted (in this role, when both are given)
        acted = []
        if filters.role:
            acted.append(_has_role(filters.role))
        if filters.person:
            acted.append(_person(session, filters.person))
        # the incidents from the audit rows' side: by person, an index-only scan of (actor_id, incident_id);
        # by role, one of (incident_id, actor_id, actor_role) per incident, newest first
        query = query.where(Incident.id.in_(select(AuditEvent.incident_id).where(*acted)))
    return query.order_by(Incident.id.desc())


def _versions(session: Session) -> dict[int, int]:
    return dict(session.execute(select(ProcessVersion.id, ProcessVersion.version)).all())
