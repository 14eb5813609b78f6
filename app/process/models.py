"""The process owners' own table: drafts. Published versions (`ProcessVersion`) stay in app/models.py, beside
the incidents pinned to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import UtcDateTime, utcnow


class ProcessDraft(Base):
    """A process owner's unpublished diagram and forms (app/process/drafts.py); publishing it makes a ProcessVersion.

    Saves are optimistically locked: the editor sends the lock_version it started from.
    """

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms_json: Mapped[str] = mapped_column(Text)  # {"file name": "file text", ...}: every form of the draft
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open / published
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"))
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": lock_version}
