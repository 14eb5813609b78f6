"""Report roll-ups: what the reports would otherwise rebuild from an incident's whole audit chain,
worked out once when the audit row that settles it is written (`app.reports.rollup`, same
transaction) and kept as plain indexed rows the reports aggregate in SQL (docs/reports.md).

Each row is keyed by the audit row it comes from, so writing it twice is impossible and a rebuild
(`flask reports rebuild`, migration 0018) gives the same rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import UtcDateTime


class ReportTaskSpan(Base):
    """One completed task: who completed it, in which roles, when it became ready, was taken, was done."""

    __tablename__ = "report_task_spans"

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
    - deadline_breach: the level breached, the support group that had the incident then;
    - reopened: the support group whose resolution the requester rejected;
    - change_returned: the wait since the transfer (seconds);
    - first_step: the incident's first claim or completion of a handling step (one per incident)."""

    __tablename__ = "report_events"
    __table_args__ = (Index("ix_report_events_kind_at", "kind", "at"),)

    audit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    level: Mapped[str | None] = mapped_column(String(10))
    support_group: Mapped[str | None] = mapped_column(String(40))
    seconds: Mapped[float | None] = mapped_column(Float)
