"""Every alarm notification received, as received, with what it did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import UtcDateTime, utcnow

# What receiving an alarm did (`Alarm.outcome`).
OPENED = "opened"  # a firing alarm opened an incident
STORM_CHILD = "storm_child"  # …opened one as a child of the storm's parent (the system's first within the window)
ATTACHED = "attached"  # a firing alarm of an incident still open for its fingerprint: nothing new opened
RESOLVED = "resolved"  # the alarm cleared: noted on its incident, which stays open
UNMATCHED = "unmatched"  # a resolved alarm with no open incident for its fingerprint
REFUSED = "refused"  # the incident could not be opened (`detail` says why); the alarm is kept
OUTCOMES = (OPENED, STORM_CHILD, ATTACHED, RESOLVED, UNMATCHED, REFUSED)


class Alarm(Base):
    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    received_by: Mapped[str] = mapped_column(String(100))  # the token's account
    format: Mapped[str] = mapped_column(String(20))  # alertmanager / generic
    source: Mapped[str] = mapped_column(String(100))  # the sending system (a receiver's name, "zabbix"…)
    fingerprint: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(10))  # firing / resolved
    system: Mapped[str | None] = mapped_column(String(200), index=True)
    severity: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(String(400))
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    labels: Mapped[str] = mapped_column(Text)  # JSON: labels and annotations as sent
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)  # why an incident could not be opened
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    parent_incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)  # a storm's parent


class RecoveryCheck(Base):
    """A handler's to-do after an alarm cleared (ALARM_RECOVERY_CHECK): confirm that the service has
    recovered. Not a task of the diagram: ticking it is audited and moves nothing in the process."""

    __tablename__ = "recovery_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"))  # the cleared alarm
    # whom it went to when it opened (it then follows the incident's handling: app/alarms/recovery.py)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    candidate_role: Mapped[str] = mapped_column(String(40))  # …else anyone of this group
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the incident ended before anyone ticked it
