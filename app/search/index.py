"""Feeding the index: each new audit row that carries text an incident's readers may search becomes
search documents in the same transaction (`app.audit.on_append`), whoever wrote the row — the incident
service, comments, announcements."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app import writes
from app.audit import on_append
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


@on_append
def _index_new_audit_rows(session: Session, rows: list[AuditEvent]) -> None:
    """Each new row's documents, in one INSERT (with the action's other writes when they are batched,
    app.writes: nothing reads them back in this transaction)."""
    found = [
        {"incident_id": row.incident_id, "audit_id": row.id, "kind": kind, "body": text}
        for row in rows
        if row.incident_id is not None
        for kind, text in documents(row.kind, json.loads(row.data))
    ]
    if found:
        writes.insert_rows(session, SearchDocument.__table__, found)
