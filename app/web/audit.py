"""The auditors' area (read-only): search every instance, read one instance's complete history with
the diagram replayed on the version it ran on, check the audit hash chain, export CSV and JSON.

Searches read the incidents' list columns and the audit rows only, never a workflow. There are no
POST routes here: an auditor changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit_export
from app.audit.chain import chain_of
from app.engine.lanes import REQUESTER
from app.models import ProcessVersion, User, UserRole
from app.users import ROLES
from app.web import database, labels, paging
from app.web.audit_history import SECONDS, History, load_history, local_seconds
from app.web.audit_integrity import integrity
from app.web.audit_search import (
    ACTING_ROLES,
    LEVEL_CODES,
    STATUS_CODES,
    TYPE_CODES,
    AuditFilter,
    read_filter,
    search_query,
)
from app.web.i18n import content
from app.web.i18n import gettext as _
from app.web.security import roles_required
from app.web.timefmt import local, zone

bp = Blueprint("audit", __name__, url_prefix="/audit")


AUDITOR = "auditor"
STAFF_ROLES = [role for role in ROLES if role != REQUESTER]


def _versions(session: Session) -> dict[int, int]:
    return dict(session.execute(select(ProcessVersion.id, ProcessVersion.version)).all())


@bp.route("/")
@roles_required(AUDITOR)
def index():
    filters, errors = read_filter(request.args)
    with database().read() as session:
        rows, page = paging.page_of(session, search_query(session, filters))
        versions = _versions(session)
        check = integrity(session)
        # suggestions for "person who acted": the staff, not every requester (thousands of accounts); named
        # roles, so that the index of roles finds them instead of a scan of every account's (docs/bench.md)
        staff = select(UserRole.user_id).where(UserRole.role.in_(STAFF_ROLES))
        people = list(session.scalars(select(User.display_name).where(User.id.in_(staff)).order_by(User.display_name)))
    return render_template(
        "audit/index.html",
        incidents=rows,
        versions=versions,
        filters=filters,
        args=filters.args(),
        errors=errors,
        page=page,
        integrity=check,
        people=people,
        role_codes=ACTING_ROLES,
        status_codes=STATUS_CODES,
        type_codes=TYPE_CODES,
        level_codes=LEVEL_CODES,
    )


def _yes_no(value: Any) -> str:
    return "" if value is None else _("yes") if value else _("no")


def _label(table: Mapping[str, str]) -> Callable[[Any], str]:
    return lambda code: "" if code in (None, "") else labels.label(table, code)


def _incident_columns() -> list[tuple[str, str]]:
    return [
        ("number", _("Number")),
        ("title", _("Title")),
        ("system", _("System")),
        ("type", _("Type")),
        ("level", _("Level")),
        ("impact", _("Impact")),
        ("urgency", _("Urgency")),
        ("emergency", _("Emergency")),
        ("status", _("Status")),
        ("source", _("Source")),
        ("requester_name", _("Requester")),
        ("registered_at", _("Registered")),
        ("due_at", _("Deadline")),
        ("breached", _("Breached")),
        ("resolved_at", _("Resolved")),
        ("resolved_in_time", _("Resolved in time")),
        ("closed_at", _("Closed")),
        ("closure_code", _("Closure code")),
        ("reopen_count", _("Reopened")),
        ("change_reference", _("Change reference")),
        ("process_version", _("Process version")),
    ]


def _incident_formatters() -> dict[str, Callable[[Any], str]]:
    return {
        "type": _label(labels.TYPES),
        "level": _label(labels.LEVELS),
        "impact": _label(labels.IMPACTS),
        "urgency": _label(labels.URGENCIES),
        "status": _label(labels.STATUSES),
        "source": _label(labels.SOURCES),
        "closure_code": _label(labels.CLOSURE_CODES),
        "emergency": _yes_no,
        "breached": _yes_no,
        "resolved_in_time": _yes_no,
        "registered_at": local_seconds,
        "due_at": local_seconds,
        "resolved_at": local_seconds,
        "closed_at": local_seconds,
    }


def _matching_records() -> tuple[AuditFilter, list[dict[str, Any]]]:
    filters, _errors = read_filter(request.args)
    with database().read() as session:
        versions = _versions(session)
        rows = session.scalars(search_query(session, filters))
        records = [audit_export.incident_record(row, versions.get(row.process_version_id)) for row in rows]
    return filters, records


def _download(text: str, mimetype: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp() -> str:
    return local(datetime.now(zone()), "%Y%m%d-%H%M%S")


@bp.route("/export.csv")
@roles_required(AUDITOR)
def export_csv():
    """Streamed: the header leaves at once and the rows are read in chunks as they are written, so
    neither the first byte nor the worker's memory depends on how many incidents match."""
    filters, _errors = read_filter(request.args)
    columns, formatters = _incident_columns(), _incident_formatters()

    def records() -> Iterator[dict[str, Any]]:
        with database().read() as session:
            versions = _versions(session)
            query = search_query(session, filters).execution_options(yield_per=audit_export.CHUNK_ROWS)
            for row in session.scalars(query):
                yield audit_export.incident_record(row, versions.get(row.process_version_id))

    chunks = audit_export.csv_chunks(records(), columns, formatters)
    response = Response(
        stream_with_context(chunk.encode("utf-8") for chunk in chunks), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="incidents-{_stamp()}.csv"'
    return response


@bp.route("/export.json")
@roles_required(AUDITOR)
def export_json():
    filters, records = _matching_records()
    document = {
        "exported_at": datetime.now(zone()).isoformat(),
        "filters": filters.args(),
        "count": len(records),
        "incidents": records,
    }
    return _download(audit_export.to_json(document), "application/json", f"incidents-{_stamp()}.json")


def _history_or_404(incident_id: int) -> History:
    with database().read() as session:
        history = load_history(session, incident_id)
        if history is None:
            abort(404)
        session.refresh(history.view.incident, ["process_version"])  # its diagram is drawn on the page
    return history


@bp.route("/incidents/<int:incident_id>")
@roles_required(AUDITOR)
def history(incident_id: int):
    found = _history_or_404(incident_id)
    version = found.view.incident.process_version
    replay = {
        "xml": version.bpmn_xml,
        "markers": audit_export.replay_markers(found.records, found.open_spec_ids),
        "counts": audit_export.replay_counts(found.records),
        "texts": {
            "count": _("passed %(count)s times", count="{count}"),
            "error": _("The diagram could not be drawn."),
        },
    }
    moves = [entry for entry in found.entries if entry.event.kind == "migrated"]
    return render_template("audit/history.html", history=found, version=version, replay=replay, moves=moves)


def _history_columns() -> list[tuple[str, str]]:
    return [
        ("id", _("Row")),
        ("at", _("Time")),
        ("actor_name", _("Actor")),
        ("actor_id", _("Actor id")),
        ("roles", _("Role")),
        ("event", _("Event")),
        ("kind", _("Event code")),
        ("task", _("Task")),
        ("details", _("What changed")),
        ("data_canonical", _("Data")),
        ("prev_hash", _("Previous hash")),
        ("hash", _("Hash")),
    ]


@bp.route("/incidents/<int:incident_id>/history.csv")
@roles_required(AUDITOR)
def history_csv(incident_id: int):
    found = _history_or_404(incident_id)
    rows = []
    for entry, record in zip(found.entries, found.records, strict=True):
        lines = [detail.plain() for detail in entry.details] + entry.reasons
        rows.append(
            {
                **record,
                "at": local(entry.event.at, SECONDS),
                "roles": entry.roles,
                "event": labels.label(labels.EVENTS, entry.event.kind),
                "task": content(entry.event.task_name),
                "details": "\n".join(lines),
            }
        )
    text = audit_export.to_csv(rows, _history_columns())
    return _download(text, "text/csv; charset=utf-8", f"{found.view.incident.number}-history.csv")


@bp.route("/incidents/<int:incident_id>/history.json")
@roles_required(AUDITOR)
def history_json(incident_id: int):
    found = _history_or_404(incident_id)  # the incident's own chain is checked now
    incident, version = found.view.incident, found.view.incident.process_version
    check = found.integrity
    document = {
        "exported_at": datetime.now(zone()).isoformat(),
        "incident": audit_export.incident_record(incident, version.version),
        "process_version": {
            "process_id": version.process_id,
            "version": version.version,
            "content_hash": version.content_hash,
        },
        "chain": {  # this incident's own chain, checked as it was exported
            "name": chain_of(incident.id, ""),
            "verified": check.chain_ok,
            "rows": len(found.records),
            "broken_at": None if check.chain_ok else check.broken_at,
            "reason": None if check.chain_ok else check.raw_reason,
        },
        "log": {  # the last whole check of the audit log (every chain, against the last checkpoint)
            "state": check.state,
            "checked_at": check.checked_at.isoformat() if check.checked_at else None,
            "rows": check.rows,
            "chains": check.chains,
            "checkpoint": check.checkpoint,
            "problems": check.problem_count,
        },
        "hash_recipe": audit_export.HASH_RECIPE,
        "events": found.records,
    }
    return _download(audit_export.to_json(document), "application/json", f"{incident.number}-history.json")
