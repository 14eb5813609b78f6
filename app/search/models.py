"""One searchable text per audit row that carries one: the index is fed from the audit log as it is
written (`app.search.index`), so every path that writes an incident's text feeds it.

The trigram indexes are not described here: on PostgreSQL a GIN index with `gin_trgm_ops` on `body`,
on SQLite the FTS5 table `search_fts` kept in step by triggers (migration 0011, docs/search.md)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


class SimilarText(Base):
    """One distinct title or description (the similar-incidents box's candidates on PostgreSQL, app.search.similar):
    its documents folded in by the timer worker, up to `newest_document_id`. A recurring incident's title is one
    row here however many incidents carry it. Its trigram indexes are not described here (migration 0035)."""

    __tablename__ = "similar_texts"
    __table_args__ = (
        UniqueConstraint("kind", "digest", name="uq_similar_texts_kind_digest"),
        Index("ix_similar_texts_newest_document_id", "newest_document_id"),  # what is folded already
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(32))  # md5 of the body, as PostgreSQL's md5() writes it
    body: Mapped[str] = mapped_column(Text)
    newest_document_id: Mapped[int] = mapped_column(Integer)
