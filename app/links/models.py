"""A link from one incident to another, read in both directions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, String, UniqueConstraint, exists
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import UtcDateTime, utcnow

DUPLICATE_OF = "duplicate_of"  # this incident reports the same thing as the other
RELATED_TO = "related_to"
CAUSED_BY = "caused_by"  # the other incident caused this one
PART_OF = "part_of"  # this incident is a child of the other, a major incident
KINDS = (PART_OF, DUPLICATE_OF, CAUSED_BY, RELATED_TO)


class IncidentLink(Base):
    __tablename__ = "incident_links"
    __table_args__ = (
        UniqueConstraint("from_id", "to_id", "kind"),
        Index("ix_incident_links_to_kind", "to_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    to_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def is_child(incident_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL: the incident is part of a major incident (reports count it through its parent)."""
    return exists().where(IncidentLink.from_id == incident_id, IncidentLink.kind == PART_OF)
