"""An attachment's description, and its bytes in a table of their own: lists and pages read the
first; only a download reads the second, a slice at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.comments import models as _comments  # noqa: F401 — the table an attachment's comment_id names
from app.db import Base
from app.incidents.visibility import REQUESTER_ATTACHMENT
from app.models import UtcDateTime, utcnow

REQUESTER_SIDE = REQUESTER_ATTACHMENT  # attached by the requester, or to a comment: the requester sees it
INTERNAL = "internal"  # attached by a handler to the incident, a work note or a task step


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))  # the task step it was attached on
    task_name: Mapped[str | None] = mapped_column(String(200))
    side: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, made safe, its extension fitting its type
    content_type: Mapped[str] = mapped_column(String(100))  # found from the content, never from the name
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_by_name: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AttachmentContent(Base):
    __tablename__ = "attachment_contents"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
