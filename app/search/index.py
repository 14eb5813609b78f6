"""Feeding the index: each new audit row that carries text an incident's readers may search becomes
search documents in the same transaction (session listeners), whoever wrote the row — the incident
service, comments, announcements."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.search.models import COMMENT, DESCRIPTION, NOTES, SOLUTION, TITLE, WORK_NOTE, SearchDocument

RAISED_WITH = "incident"  # the variable with the title and description (app.incidents.visibility)
NOTE_KEYS = ("notes", "note", "announcement")  # free text in a step's answers


def documents(kind: str, data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, text) of what an audit row of this kind with this data gives to search."""
    if kind == "started":
        yield from _raised_with(data.get(RAISED_WITH))
    elif kind == "task_completed":
        answers = data.get("data") or {}
        yield from _raised_with(answers.get(RAISED_WITH))
        for variable, value in answers.items():
            if variable != RAISED_WITH and isinstance(value, Mapping):
                for key in NOTE_KEYS:
                    if isinstance(value.get(key), str) and value[key].strip():
                        yield NOTES, value[key]
    elif kind == "resolved":
        yield from _text(SOLUTION, data.get("text"))
    elif kind == "comment_added":
        yield from _text(COMMENT, data.get("text"))
    elif kind == "work_note_added":
        yield from _text(WORK_NOTE, data.get("text"))
    elif kind in ("facts_added", "forwarded_for_tracking"):
        yield from _text(NOTES, data.get("note"))


def _raised_with(fields: Any) -> Iterator[tuple[str, str]]:
    if isinstance(fields, Mapping):
        yield from _text(TITLE, fields.get("title"))
        yield from _text(DESCRIPTION, fields.get("description"))


def _text(kind: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str) and value.strip():
        yield kind, value.strip()


PENDING = "search_pending_audit_rows"


@event.listens_for(Session, "after_flush")
def _note_new_audit_rows(session: Session, _context) -> None:
    rows = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.incident_id is not None]
    if rows:
        session.info.setdefault(PENDING, []).extend(rows)


@event.listens_for(Session, "after_flush_postexec")
def _index_new_audit_rows(session: Session, _context) -> None:
    """The rows have their ids now; their documents go in with the next flush (at the latest the commit)."""
    for row in session.info.pop(PENDING, []):
        for kind, text in documents(row.kind, json.loads(row.data)):
            session.add(SearchDocument(incident_id=row.incident_id, audit_id=row.id, kind=kind, body=text))
