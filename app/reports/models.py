"""Report roll-ups: what the reports would otherwise rebuild from an incident's whole audit chain,
worked out once when the audit row that settles it is written (`app.reports.rollup`, same
transaction) and kept as plain indexed rows the reports aggregate in SQL (docs/reports.md).

Each row is keyed by the audit row it comes from, so writing it twice is impossible and a rebuild
(`flask reports rebuild`, migration 0018) gives the same rows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import Incident, UtcDateTime


class ReportTaskSpan(Base):
    """One completed task: who completed it, in which roles, when it became ready, was taken, was done."""

    __tablename__ = "report_task_spans"
    # a person's latest completion in a period (their name and roles in the workload table)
    __table_args__ = (Index("ix_report_task_spans_actor_completed", "actor_id", "completed_at"),)

    audit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # the task_completed row
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    spec_id: Mapped[str | None] = mapped_column(String(100))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    roles: Mapped[str] = mapped_column(String(400))  # the completion's actor_role
    ready_at: Mapped[datetime] = mapped_column(UtcDateTime)
    taken_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    waiting_seconds: Mapped[float] = mapped_column(Float)
    working_seconds: Mapped[float] = mapped_column(Float)


BREACH, REOPEN, CHANGE_WAIT, FIRST_STEP = "deadline_breach", "reopened", "change_returned", "first_step"


class ReportEvent(Base):
    """One event a report counts, with what it needs from the chain before it:
    - deadline_breach: the level breached, the support group that had the incident then, and whether the
      incident had a breach before (`breached_before`: most have none, and are then first in any period);
    - reopened: the support group whose resolution the requester rejected;
    - change_returned: the wait since the transfer (seconds);
    - first_step: the incident's first claim or completion of a handling step (one per incident)."""

    __tablename__ = "report_events"
    # the reports count a period's events from the index alone on PostgreSQL (migration 0039)
    __table_args__ = (
        Index(
            "ix_report_events_kind_at",
            "kind",
            "at",
            postgresql_include=["incident_id", "audit_id", "level", "support_group", "breached_before"],
        ),
        # the few breaches of incidents that breached before (their first ones are counted per day): a period
        # reads these alone (migration 0045), as the statement writes its condition on each database
        Index(
            "ix_report_events_breached_again",
            "at",
            postgresql_include=["incident_id", "audit_id", "level", "support_group"],
            postgresql_where=text(f"kind = '{BREACH}' AND breached_before IS true"),
            sqlite_where=text(f"kind = '{BREACH}' AND breached_before IS 1"),
        ),
    )

    audit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    level: Mapped[str | None] = mapped_column(String(10))
    support_group: Mapped[str | None] = mapped_column(String(40))
    seconds: Mapped[float | None] = mapped_column(Float)
    breached_before: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class _Counts:
    """One key's counts on one local day or month: totals (`bucket` −1) or a histogram bar (`bucket` ≥ 0:
    hundredths of an hour, or whole seconds for `to_register_s`). The primary key: the metric, the day or
    month (`sort_order`: second, so that a period is one index range per metric), then the other keys."""

    metric: Mapped[str] = mapped_column(String(20), primary_key=True, sort_order=-2)
    type: Mapped[str] = mapped_column(String(20), primary_key=True)
    level: Mapped[str] = mapped_column(String(10), primary_key=True)
    grp: Mapped[str] = mapped_column(String(400), primary_key=True)
    person: Mapped[int] = mapped_column(Integer, primary_key=True)  # actor id, 0 when none
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    timely: Mapped[int] = mapped_column(Integer, default=0)
    us: Mapped[int] = mapped_column(BigInteger, default=0)  # a duration's sum, microseconds
    us2: Mapped[int] = mapped_column(BigInteger, default=0)  # a second duration (a task's waiting)


class ReportDayCount(_Counts, Base):
    __tablename__ = "report_day_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)


class ReportMonthCount(_Counts, Base):
    """The `report_day_counts` of one local month added up (`month`: its first day), kept with them in
    the same upsert: a period reads its whole months here and only the days at its ends there."""

    __tablename__ = "report_month_counts"

    month: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)


class ReportIncidentCounts(Base):
    """What one incident's contributions to `report_day_counts` are made of now (`counters.IncidentFacts`
    as JSON): the difference an action makes is worked out without reading its roll-up rows again."""

    __tablename__ = "report_incident_counts"

    incident_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    material: Mapped[str] = mapped_column(Text)


class RepeatAnalysis(Base):
    """A repeat analysis a reports page asked for (its period, type and level; "" = all) and when its
    stored result was read (`app.reports.stored_repeats`): periods with many incidents are grouped by
    the timer worker, never inside a page request."""

    __tablename__ = "repeat_analyses"
    __table_args__ = (
        UniqueConstraint("period_start", "period_end", "type", "level", name="uq_repeat_analyses_filter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    type: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(10))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)  # last asked for by a page
    as_of: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when the stored groups' incidents were read
    groups: Mapped[int] = mapped_column(Integer, default=0)
    tickets_up_to: Mapped[int] = mapped_column(Integer, default=0)  # the stored groups know tickets up to this id


class RepeatAnalysisRow(Base):
    """One incident of one group of a stored analysis (`repeats.RepeatRow`, as of the analysis)."""

    __tablename__ = "repeat_analysis_rows"
    __table_args__ = (
        Index("ix_repeat_analysis_rows_incident", "analysis_id", "incident_id"),  # an incident's group
    )

    analysis_id: Mapped[int] = mapped_column(ForeignKey("repeat_analyses.id"), primary_key=True)
    group_no: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based, in report order
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based, registration order
    group_size: Mapped[int] = mapped_column(Integer)
    suggested_title: Mapped[str] = mapped_column(String(200))
    group_has_problem_ticket: Mapped[bool] = mapped_column(Boolean)
    incident_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    has_problem_ticket: Mapped[bool] = mapped_column(Boolean)
    group_tickets: Mapped[int] = mapped_column(Integer)  # the group's problem tickets, as of the analysis
    group_first_tickets: Mapped[str] = mapped_column(String(200))  # the ids of its first few, comma-separated


class ReportChainMemory(Base):
    """What the roll-ups remember of one incident's audit chain (`app.reports.memory.ChainMemory` as
    JSON), through position `seq`: a new row's roll-up rows are worked out from it and the row alone,
    without reading the chain again."""

    __tablename__ = "report_chain_memory"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)  # the chain position folded through
    memory: Mapped[str] = mapped_column(Text)


# The backlog now (`app.reports.backlog`): the open incidents counted by stage, group and level from this
# index alone (an index-only scan of the open incidents, their type and id included for the filters),
# instead of fetching each open incident's row.
_OPEN_NOW = text("status IN ('new', 'open')")
Index(
    "ix_incidents_backlog",
    Incident.current_stage,
    Incident.current_group,
    Incident.level,
    postgresql_include=["type", "id"],
    postgresql_where=_OPEN_NOW,
    sqlite_where=_OPEN_NOW,
)
