"""What people wrote on an incident, and who they mentioned. The text is also in the audit row that
records it (the timeline reads that row); these tables are for lists, mentions and search."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import UtcDateTime, utcnow

WORK_NOTE = "work_note"  # internal: handlers, leadership and auditors read it, never the requester
COMMENT = "comment"  # requester-side: the requester reads it and may write one
KINDS = (WORK_NOTE, COMMENT)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    audit_id: Mapped[int] = mapped_column()  # the audit row that records it (the timeline's entry)


class Mention(Base):
    """@someone in a note or comment: the incident is in their inbox as "mentioned" until they mark it read."""

    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
