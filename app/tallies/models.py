"""One count of the incidents: a row per status, type and level that has incidents, all of one `counted_at`."""

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
