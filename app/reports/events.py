"""Audit rows reduced to what reports read: plain values, no workflow.

The few values reports need from an audit row's JSON `data` (a task's element id, a dispatch's
stage and group, a classification's level, whether a fault notification became due) are
extracted by the database (`json_extract` on SQLite, `jsonb` operators on PostgreSQL), only for
the kinds that carry them, so a report over a year of audit rows never parses JSON in Python.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.reports.models import BREACH

TASK_KINDS = ("task_completed", "task_claimed", "task_released", "task_assigned")
CLASSIFICATION_KINDS = ("classified", "reclassified")
_DATA_KINDS = frozenset((*TASK_KINDS, *CLASSIFICATION_KINDS, "dispatched", "resolved", BREACH))


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    incident_id: int
    at: datetime
    kind: str
    actor_id: int | None = None
    actor_name: str = ""
    actor_role: str = ""
    task_id: str | None = None
    spec_id: str | None = None  # task events: the user task's element id
    stage: str | None = None  # dispatched, resolved
    group: str | None = None  # dispatched (second-line group)
    level: str | None = None  # classified / reclassified (the level after), deadline_breach (the level breached)
    notification_duty: bool = False  # classified / reclassified that created a fault-notification duty


def _json_text(dialect: str, *path: str) -> ColumnElement[Any]:
    """The text (or number) at `path` in the row's JSON data; NULL when absent or JSON null."""
    if dialect == "postgresql":
        document = cast(AuditEvent.data, JSONB)
        return document[path].astext if len(path) > 1 else document[path[0]].astext
    return func.json_extract(AuditEvent.data, "$." + ".".join(f'"{key}"' for key in path))


def _when(kinds: tuple[str, ...], value: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((AuditEvent.kind.in_(kinds), value), else_=None)


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true")


def event_fields(dialect: str) -> dict[str, ColumnElement[Any]]:
    """The values taken from an audit row's JSON: a dispatch's stage and group, the level of a
    classification (after it) or of a deadline breach (the one breached)."""
    return {
        "stage": _when(("dispatched", "resolved"), _json_text(dialect, "stage")),
        "group": _when(("dispatched",), _json_text(dialect, "group")),
        "level": case(
            (AuditEvent.kind == "deadline_breach", _json_text(dialect, "level")),
            (AuditEvent.kind.in_(CLASSIFICATION_KINDS), _json_text(dialect, "assessment", "level")),
            else_=None,
        ),
    }


@functools.cache
def _rows_query(dialect: str) -> Select:
    """Built once per dialect: the expression is the same every time, and building it costs more than
    running it for one incident's chain (each action that completes a task reads one)."""
    return select(
        AuditEvent.id,
        AuditEvent.incident_id,
        AuditEvent.at,
        AuditEvent.kind,
        AuditEvent.actor_id,
        AuditEvent.actor_name,
        AuditEvent.actor_role,
        AuditEvent.task_id,
        _when(TASK_KINDS, _json_text(dialect, "spec_id")),
        *event_fields(dialect).values(),
        _when(("classified",), _json_text(dialect, "assessment", "notify_by")),
        _when(("reclassified",), _json_text(dialect, "assessment", "notification_newly_required")),
    )


def select_rows(session: Session, kinds: Iterable[str] | None, *criteria: ColumnElement[bool]) -> list[AuditRow]:
    """Audit rows of the given kinds (None: all kinds) that meet the criteria, in chain order (by id)."""
    query = _rows_query(session.get_bind().dialect.name).where(*criteria)
    if kinds is not None:
        query = query.where(AuditEvent.kind.in_(tuple(kinds)))
    return [
        AuditRow(*head, spec_id, stage, group, level, notify_by is not None or _truthy(newly_required))
        for *head, spec_id, stage, group, level, notify_by, newly_required in session.connection().execute(
            query.order_by(AuditEvent.id)
        )
    ]


def by_incident(rows: Iterable[AuditRow]) -> dict[int, list[AuditRow]]:
    """Rows grouped per incident, each list in chain order."""
    grouped: dict[int, list[AuditRow]] = {}
    for row in sorted(rows, key=lambda row: row.id):
        grouped.setdefault(row.incident_id, []).append(row)
    return grouped


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def row_of(event: AuditEvent) -> AuditRow:
    """An audit row just written (its JSON `data` still at hand) as `select_rows` would read it back."""
    kind = event.kind
    data = json.loads(event.data) if kind in _DATA_KINDS else {}
    assessment = data.get("assessment") if isinstance(data.get("assessment"), dict) else {}
    level = assessment.get("level") if kind in CLASSIFICATION_KINDS else data.get("level") if kind == BREACH else None
    return AuditRow(
        event.id, event.incident_id, event.at, kind, event.actor_id, event.actor_name, event.actor_role, event.task_id,
        _text(data.get("spec_id")) if kind in TASK_KINDS else None,
        _text(data.get("stage")) if kind in ("dispatched", "resolved") else None,
        _text(data.get("group")) if kind == "dispatched" else None,
        _text(level),
        (assessment.get("notify_by") is not None) if kind == "classified"
        else _truthy(assessment.get("notification_newly_required")) if kind == "reclassified" else False,
    )  # fmt: skip
