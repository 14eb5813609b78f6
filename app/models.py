"""Persistent records. Lists, inboxes and reports read the plain indexed columns here and never
deserialize a workflow; the engine state lives in its own table (IncidentState), read only to act
on one instance or to show one task's form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from app.db import Base


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Where notifications reach the person outside the browser (app/notifications/); all optional.
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    wecom_id: Mapped[str | None] = mapped_column(String(64))
    dingtalk_id: Mapped[str | None] = mapped_column(String(64))

    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(row.role for row in self.role_rows)


class UserSession(Base):
    """A signed-in browser (app/accounts/sessions.py). The cookie holds a random token; only its SHA-256
    is stored, so reading this table does not let anyone sign in as someone else."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SignInThrottle(Base):
    """Recent failed sign-ins of one account name, client address or trusted device
    (app/accounts/throttle.py); the next attempt is answered only from `not_before` on."""

    __tablename__ = "sign_in_throttle"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # account / address / device
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class ProcessVersion(Base):
    """A published diagram with the forms it references; instances are pinned to one."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms_json: Mapped[str] = mapped_column(Text)  # {"file name": "file text", ...}
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    published_by: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def open_with(flag: str, value: bool = True) -> dict[str, Any]:
    """The predicate of a partial index over open incidents with `flag` set to `value`, as each database
    writes the statements that use it (`emergency IS true` / `IS 1`): the console's and the overview's
    lists and counts read such an index in their order and stop at the page or the cap (migration 0032)."""
    return {
        "postgresql_where": text(f"status = 'open' AND {flag} IS {str(value).lower()}"),
        "sqlite_where": text(f"status = 'open' AND {flag} IS {int(value)}"),
    }


class Incident(Base):
    """One process instance of the incident process, with the columns every list needs."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_due", "status", "due_at"),
        Index("ix_incidents_open_emergency", "due_at", "id", **open_with("emergency")),
        Index("ix_incidents_open_core_unconfirmed", "due_at", "id", **open_with("core_impact_unconfirmed")),
        Index("ix_incidents_open_breached", "due_at", "id", **open_with("breached")),  # past a deadline moved later
        Index("ix_incidents_open_warned", "warn_at", "due_at", "id", **open_with("breached", False)),  # close to it
        Index("ix_incidents_next_timer_due", "next_timer_due"),
        Index("ix_incidents_requester_created", "requester_id", "created_at"),  # the portal, newest first
        # the auditors' search and export by registration date (a portal incident is not registered yet)
        Index("ix_incidents_registered_or_created", text("coalesce(registered_at, created_at)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    lock_version: Mapped[int] = mapped_column(Integer)

    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str | None] = mapped_column(String(40))
    system: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str | None] = mapped_column(String(20), index=True)
    fault_category: Mapped[str | None] = mapped_column(String(30))
    level: Mapped[str | None] = mapped_column(String(10), index=True)
    impact: Mapped[str | None] = mapped_column(String(10))
    urgency: Mapped[str | None] = mapped_column(String(10))
    # "core business affected?" answered 不确定 and nothing else shows it: the manager confirms it
    core_impact_unconfirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    registered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notify_by: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warned: Mapped[bool] = mapped_column(Boolean, default=False)
    breached: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    next_timer_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    current_stage: Mapped[str | None] = mapped_column(String(30))
    current_group: Mapped[str | None] = mapped_column(String(30))
    current_lanes: Mapped[str] = mapped_column(String(200), default="")
    current_assignees: Mapped[str] = mapped_column(String(400), default="")

    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requester_name: Mapped[str | None] = mapped_column(String(200))  # a portal or desk "contact"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    resolved_in_time: Mapped[bool | None] = mapped_column(Boolean)
    resolution_kind: Mapped[str | None] = mapped_column(String(20))
    resolved_stage: Mapped[str | None] = mapped_column(String(30))
    # who resolved it last (an account id, as the audit rows' actor_id; none: the system), kept through a
    # reopen: the step that comes back goes to them (app/incidents/assignments.after_reopen)
    resolver_id: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    closure_code: Mapped[str | None] = mapped_column(String(30))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    change_kind: Mapped[str | None] = mapped_column(String(20))
    change_reference: Mapped[str | None] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    ops_ticket: Mapped[str | None] = mapped_column(String(200), index=True)  # xxxIT平台工单号: the platform's ticket

    # Not joined: a version's diagram and forms are ~120 KB, and an action or a page needs only the
    # parsed model, cached by version id (versions.ModelCache.get_by_id).
    process_version: Mapped[ProcessVersion] = relationship()
    open_tasks: Mapped[list[OpenTask]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="OpenTask.created_at"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def number(self) -> str:
        return f"INC{self.id:06d}"


class IncidentState(Base):
    """The engine state of one incident (app/incidents/state.py): SpiffWorkflow's serialization
    without the process spec, which is parsed once per version. Kept out of `incidents` so that no
    list or page that reads incidents ever loads it; read once and written once per action."""

    __tablename__ = "incident_states"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    serializer_version: Mapped[str] = mapped_column(String(20))
    state: Mapped[bytes] = mapped_column(LargeBinary)  # zlib of the serializer's JSON, byte for byte


UNCLAIMED = text("assignee_id IS NULL")
INBOX_KEY = ("due_at", "created_at", "id")
# the inbox's filters, last in each part's index: a filtered inbox reads them there, not each task's incident
FILTERED = ("incident_type", "incident_level", "emergency")


class OpenTask(Base):
    """A ready user task, for inbox queries."""

    __tablename__ = "open_tasks"
    __table_args__ = (
        Index("ix_open_tasks_role_due", "candidate_role", "due_at"),  # the console's lists, by deadline
        # the reports' open tasks per role and assignee, counted from the index alone (migration 0039)
        Index("ix_open_tasks_role_assignee", "candidate_role", "assignee_id"),
        # the parts an inbox is read and counted in (app.web.queries._inbox_parts), each from its own
        # index in the inbox's order (deadline, created, id; migration 0030), counted from the index alone
        Index("ix_open_tasks_assignee_due", "assignee_id", *INBOX_KEY, *FILTERED),
        Index(
            "ix_open_tasks_unclaimed_role",
            "candidate_role",
            *INBOX_KEY,
            *FILTERED,
            postgresql_where=UNCLAIMED,
            sqlite_where=UNCLAIMED,
        ),
        Index(
            "ix_open_tasks_unclaimed_spec",
            "spec_id",
            *INBOX_KEY,
            "candidate_role",
            *FILTERED,
            postgresql_where=UNCLAIMED,
            sqlite_where=UNCLAIMED,
        ),
        Index(
            "ix_open_tasks_unclaimed_lane",
            "lane",
            *INBOX_KEY,
            "candidate_role",
            "spec_id",
            *FILTERED,
            postgresql_where=UNCLAIMED,
            sqlite_where=UNCLAIMED,
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the workflow task id
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    spec_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(50))
    candidate_role: Mapped[str | None] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the incident's, as of its last action (app.incidents.projection.sync_open_tasks): what the inbox filters on
    incident_type: Mapped[str | None] = mapped_column(String(20))
    incident_level: Mapped[str | None] = mapped_column(String(10))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    incident: Mapped[Incident] = relationship(back_populates="open_tasks")
    assignee: Mapped[User | None] = relationship(lazy="joined")

    @property
    def has_own_time_limit(self) -> bool:
        """Due by a timer on the task itself (the fault-notification window), not by the incident's deadline."""
        return self.due_at is not None and self.due_at != self.incident.due_at


class AuditEvent(Base):
    """Append-only history in keyed hash chains, one per incident (app/audit): each row's `hash` is
    an HMAC of its content, its chain and position, and the previous row's hash in its chain."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_kind_at", "kind", "at"),  # reports select events by kind and period
        Index("ix_audit_events_actor_incident", "actor_id", "incident_id"),  # the auditors' search by person
        # … and by role, incident by incident, from the index alone (migration 0025)
        Index("ix_audit_events_incident_actor", "incident_id", "actor_id", "actor_role"),
        UniqueConstraint("chain", "seq", name="uq_audit_events_chain_seq"),  # a chain never forks
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(40))  # "incident:<id>", or accounts / process / system
    seq: Mapped[int] = mapped_column(Integer)  # position in the chain, from 1
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(400))  # every role an account can hold, comma-separated
    kind: Mapped[str] = mapped_column(String(40), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    request_id: Mapped[str | None] = mapped_column(String(64))  # the web request or job that wrote it
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditVerification(Base):
    """The result of one whole check of the audit log (app/audit/verification.py), by the timer
    worker or the CLI; the auditors' pages show the latest. Appended, never changed."""

    __tablename__ = "audit_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    rows: Mapped[int] = mapped_column(Integer)
    chains: Mapped[int] = mapped_column(Integer)
    checkpoint: Mapped[int | None] = mapped_column(Integer)  # the last checkpoint compared with
    checkpoint_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    problem_count: Mapped[int] = mapped_column(Integer)
    problems: Mapped[str] = mapped_column(Text)  # JSON: the first problems (app.audit.problem)


class WorkerHeartbeat(Base):
    """A worker process's last sign of life (app/observability/heartbeats.py): one row per process."""

    __tablename__ = "worker_heartbeats"
    __table_args__ = (Index("ix_worker_heartbeats_kind_beat_at", "kind", "beat_at"),)

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # kind@host:pid
    kind: Mapped[str] = mapped_column(String(40))  # timer (notification to come)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProblemTicket(Base):
    __tablename__ = "problem_tickets"
    # the list's order, open tickets first, newest first within (app.problems.service.listing_query)
    __table_args__ = (Index("ix_problem_tickets_listing", text("(status = 'closed')"), text("id DESC")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")  # app.problems.lifecycle
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    workaround: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def number(self) -> str:
        return f"PRB{self.id:06d}"


class ProblemLink(Base):
    """An incident linked to a problem ticket besides the one it was raised from (a repeat group's others)."""

    __tablename__ = "problem_links"

    problem_ticket_id: Mapped[int] = mapped_column(ForeignKey("problem_tickets.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True, index=True)


class Announcement(Base):
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_published", "published_at", "id"),)  # the console's newest

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
