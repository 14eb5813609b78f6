"""One count of the incidents, all rows of one `counted_at`: a row per status, type and level that has incidents,
and a row per published process version with its running incidents (0 included)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import UtcDateTime


class IncidentTally(Base):
    __tablename__ = "incident_tallies"
    __table_args__ = (Index("ix_incident_tallies_counted_at", "counted_at"),)  # the last count's rows

    id: Mapped[int] = mapped_column(primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20))
    type: Mapped[str | None] = mapped_column(String(20))
    level: Mapped[str | None] = mapped_column(String(10))
    n: Mapped[int] = mapped_column(Integer)


class VersionTally(Base):
    """A version without a row was published after the count: not counted, rather than none running."""

    __tablename__ = "version_tallies"
    __table_args__ = (Index("ix_version_tallies_counted_at", "counted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    process_version_id: Mapped[int] = mapped_column(Integer)  # no foreign key: a record of a moment
    n: Mapped[int] = mapped_column(Integer)  # its running incidents
