"""Pure conversions for the auditors: export records (CSV, JSON), the changes of a task as leaves,
form labels from a JSON Schema, and the diagram replay markers. No Flask, no database: the web
layer (`app/web/audit.py`) reads the rows and translates the labels.

An exported history row carries every field its hash covers. An incident's rows are one whole
chain, so anyone can check that each row's `prev_hash` is the hash of the row before it (positions
`seq` 1, 2, …); whoever holds the audit key can re-compute each hash with `record_mac` (HMAC-SHA256
of the canonical JSON of `HASHED_FIELDS`, in that order, as `app.audit` does).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from app.audit import chain
from app.audit.chain import canonical_json

BOM = "\ufeff"  # Excel reads a CSV file as UTF-8 only when it starts with one

# ---------------------------------------------------------------------------------------- records

INCIDENT_FIELDS = (
    "number",
    "id",
    "title",
    "system",
    "type",
    "fault_category",
    "level",
    "impact",
    "urgency",
    "emergency",
    "status",
    "source",
    "requester_name",
    "registered_at",
    "occurred_at",
    "due_at",
    "warned",
    "breached",
    "resolved_at",
    "resolved_in_time",
    "resolution_kind",
    "closed_at",
    "closure_code",
    "reopen_count",
    "change_kind",
    "change_reference",
    "parent_id",
    "process_version",
)

# what `app.audit.chain.row_mac` covers, in its order (`data` is the canonical JSON text as stored)
HASHED_FIELDS = tuple("data_canonical" if name == "data" else name for name in chain.HASHED_FIELDS)
HASH_RECIPE = (
    "HMAC-SHA256 under the audit key (kept outside the database) of the canonical JSON (keys sorted, no spaces, "
    f"UTF-8, non-ASCII kept) of the list [{', '.join(HASHED_FIELDS)}]; prev_hash is the hash of the row before "
    "in the same chain (64 zeros for the first)"
)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def incident_record(incident: Any, process_version: int | None = None) -> dict[str, Any]:
    """An incident's list columns as plain JSON values (codes, ISO 8601 UTC times)."""
    record: dict[str, Any] = {}
    for name in INCIDENT_FIELDS:
        if name == "process_version":
            record[name] = process_version
            continue
        value = getattr(incident, name)
        record[name] = _iso(value) if isinstance(value, datetime) else value
    return record


def history_record(event: Any) -> dict[str, Any]:
    """One audit row with everything its hash covers (`data_canonical` exactly as hashed) and the
    data parsed for reading (`data`)."""
    return {
        "id": event.id,
        "chain": event.chain,
        "seq": event.seq,
        "incident_id": event.incident_id,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "actor_role": event.actor_role,
        "kind": event.kind,
        "task_id": event.task_id,
        "task_name": event.task_name,
        "data": json.loads(event.data),
        "data_canonical": event.data,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def record_mac(key: bytes, record: Mapping[str, Any]) -> str:
    """The hash of an exported history row, computed the way `app.audit.chain.row_mac` does."""
    return chain.mac(key, [record[name] for name in HASHED_FIELDS])


# ---------------------------------------------------------------------------------------- formats


def to_json(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return canonical_json(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    """Text that a spreadsheet would run as a formula is kept as text (leading apostrophe)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    formatters: Mapping[str, Callable[[Any], str]] | None = None,
) -> str:
    """CSV text with a BOM and a header row. `columns` are (record key, header); a formatter per
    key turns a value into what the reader sees (labels, local times); other values are written
    as they are (None empty, booleans true/false, lists and objects as JSON)."""
    return "".join(csv_lines(records, columns, formatters))


def csv_lines(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    formatters: Mapping[str, Callable[[Any], str]] | None = None,
) -> Iterator[str]:
    """`to_csv` a line at a time (the BOM with the header), for a download that streams."""
    formatters = formatters or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def line(row: list[str]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(row)
        return out.getvalue()

    yield BOM + line([header for _, header in columns])
    for record in records:
        row = []
        for key, _header in columns:
            value = record.get(key)
            text = formatters[key](value) if key in formatters else _cell(value)
            row.append(_safe(text) if isinstance(value, str) or key in formatters else text)
        yield line(row)


CHUNK_ROWS = 500  # lines per piece of a streamed download


def csv_chunks(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    formatters: Mapping[str, Callable[[Any], str]] | None = None,
) -> Iterator[str]:
    """`csv_lines` in pieces of CHUNK_ROWS lines, the header alone first (before any record is read):
    fewer, larger writes for a download of thousands of rows."""
    lines = csv_lines(records, columns, formatters)
    yield next(lines)
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == CHUNK_ROWS:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


# ---------------------------------------------------------------------------------------- changes


def changed_leaves(before: Any, after: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any, Any]]:
    """The leaves that differ between two values, with their paths: nested objects are compared
    key by key (a missing object counts as empty), anything else as a whole."""
    if isinstance(before, Mapping) or isinstance(after, Mapping):
        old = before if isinstance(before, Mapping) else {}
        new = after if isinstance(after, Mapping) else {}
        if (before is not None and not isinstance(before, Mapping)) or (
            after is not None and not isinstance(after, Mapping)
        ):
            return [(path, before, after)]  # an object replaced by a plain value, or the reverse
        leaves = []
        for key in list(old) + [key for key in new if key not in old]:
            leaves.extend(changed_leaves(old.get(key), new.get(key), (*path, str(key))))
        return leaves
    return [] if before == after else [(path, before, after)]


def task_changes(changes: Mapping[str, Any]) -> list[tuple[tuple[str, ...], Any, Any]]:
    """The leaves of a `task_completed` event's `changes` ({key: {"before", "after"}})."""
    leaves = []
    for key, change in changes.items():
        leaves.extend(changed_leaves(change.get("before"), change.get("after"), (key,)))
    return leaves


def schema_field(schema: Mapping[str, Any] | None, path: Sequence[str]) -> tuple[str | None, dict[str, str]]:
    """A form field's title and its choices' names ({value: name}) from a JSON Schema, if it has them."""
    node: Any = schema
    for key in path:
        if not isinstance(node, Mapping):
            return None, {}
        node = (node.get("properties") or {}).get(key)
    if not isinstance(node, Mapping):
        return None, {}
    choices = node if "enum" in node else node.get("items") if isinstance(node.get("items"), Mapping) else {}
    names = dict(zip((str(v) for v in choices.get("enum", ())), choices.get("enumNames", ()), strict=False))
    return node.get("title"), names


# ---------------------------------------------------------------------------------------- replay

COMPLETED, CURRENT, ESCALATION, WITHDRAWN = "completed", "current", "escalation", "withdrawn"

# Service steps whose audit event names exactly one diagram element. Events an operation emits
# from several elements (dispatched, resolved, closed) are not drawn: the audit cannot tell which.
IMPLIED_STEPS = {
    "classified": ("classify_incident",),
    "announced": ("publish_announcement",),
    "reopened": ("reopen_incident",),
    "transferred": ("transfer_to_change",),
    "change_returned": ("wait_change_done", "return_from_change"),
    "confirmation_unanswered": ("record_unanswered_confirmation",),
    "follow_up_requested": ("create_follow_up_incident",),
    "problem_ticket_requested": ("create_problem_ticket",),
    "forwarded_for_tracking": ("tracking_requested",),
    "deadline_warning": ("record_deadline_warning",),
    "deadline_breach": ("record_deadline_breach",),
    "notification_overdue": ("record_late_notification", "throw_late_notification"),
    "reclassified": ("case_updated",),  # the only way into 重新分类与升级
}
ESCALATION_POINTS = {
    "reclassified": "escalate_incident",
    "deadline_warning": "deadline_warning",
    "deadline_breach": "deadline_breach",
    "notification_overdue": "notification_overdue",
    "confirmation_unanswered": "confirmation_unanswered",
}


def _kind_and_data(event: Any) -> tuple[str, Mapping[str, Any]]:
    if isinstance(event, Mapping):
        return event["kind"], event.get("data") or {}
    data = event.data
    return event.kind, json.loads(data) if isinstance(data, str) else data or {}


def _passes(events: Iterable[Any]) -> list[tuple[str, str]]:
    """(element id, marker) for each element an event shows was passed, in event order."""
    passes = []
    for event in events:
        kind, data = _kind_and_data(event)
        if kind == "task_completed" and data.get("spec_id"):
            passes.append((data["spec_id"], COMPLETED))
        elif kind == "task_withdrawn" and data.get("spec_id"):
            passes.append((data["spec_id"], WITHDRAWN))
        passes.extend((element, COMPLETED) for element in IMPLIED_STEPS.get(kind, ()))
        if kind in ESCALATION_POINTS:
            passes.append((ESCALATION_POINTS[kind], ESCALATION))
    return passes


def replay_markers(events: Iterable[Any], open_spec_ids: Iterable[str]) -> dict[str, list[str]]:
    """Element id → markers: `completed` (user tasks completed, and service steps the audit names
    unambiguously), `withdrawn` (user tasks the process withdrew unworked), `current` (open tasks),
    `escalation` (re-classification, deadline warning and breach, late fault notification).
    `events` are audit rows or exported history records."""
    markers: dict[str, list[str]] = {}
    for element, marker in _passes(events):
        if marker not in markers.setdefault(element, []):
            markers[element].append(marker)
    for spec_id in open_spec_ids:
        if CURRENT not in markers.setdefault(spec_id, []):
            markers[spec_id].append(CURRENT)
    return markers


def replay_counts(events: Iterable[Any]) -> dict[str, int]:
    """Element id → how often the audit shows it was passed (for the count overlays)."""
    return dict(Counter(element for element, _ in _passes(events)))
