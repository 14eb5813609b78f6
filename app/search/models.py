"""One searchable text per audit row that carries one: the index is fed from the audit log as it is
written (`app.search.index`), so every path that writes an incident's text feeds it.

The trigram indexes are not described here: on PostgreSQL a GIN index with `gin_trgm_ops` on `body`,
on SQLite the FTS5 table `search_fts` kept in step by triggers (migration 0011, docs/search.md)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

TITLE, DESCRIPTION, NOTES, COMMENT, WORK_NOTE, SOLUTION = (
    "title", "description", "notes", "comment", "work_note", "solution"
)  # fmt: skip


class SearchDocument(Base):
    __tablename__ = "search_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    audit_id: Mapped[int] = mapped_column(index=True)  # the audit row the text comes from
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
