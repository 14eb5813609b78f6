"""What the indexed columns and the open-task rows say, derived from engine events and ready tasks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app import rules
from app.engine.lanes import LANES
from app.engine.operations import parse_time
from app.engine.runtime import ReadyTask
from app.models import Incident, OpenTask

OPEN = "open"
NEW = "new"  # raised by a requester, not yet registered by the service desk
RESOLVED = "resolved"
CONFIRMED = "confirmed"  # the requester confirmed the resolution; the service desk closes it
CLOSED = "closed"
WAITING_CHANGE = "waiting_change"  # 等待变更: transferred to the defect/requirement process, comes back when done
TRANSFERRED = "transferred"  # ended at the transfer (diagrams before the incident waited for the change)
STATUSES = (NEW, OPEN, WAITING_CHANGE, RESOLVED, CONFIRMED, CLOSED, TRANSFERRED)  # in the order an incident passes them
ACTIVE_STATUSES = (NEW, OPEN, WAITING_CHANGE, RESOLVED, CONFIRMED)
WITHDRAWN = "withdrawn"  # the closure code of an incident its requester took back before registration
DUPLICATE = "duplicate"  # the closure code of an incident closed as a duplicate of another
CONFIRMATION = "confirmation"  # the variable of 确认解决结果 (the contract with the diagram)


def fit(column: Any, text: str | None) -> str | None:
    """Text for a sized list column, cut to its length. The forms allow no more than their columns hold
    (app.forms.COLUMN_FIELDS, checked at publication); this only guards a diagram that passes a longer
    text to an operation. The whole text stays in the workflow and the audit row."""
    limit = column.type.length
    text = text if text is None or isinstance(text, str) else str(text)
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def apply_incident_fields(incident: Incident, fields: Mapping[str, Any]) -> None:
    """The descriptive fields of the `incident` variable (registration form or portal)."""
    incident.title = fit(Incident.title, fields.get("title") or incident.title or "")
    incident.source = fit(Incident.source, fields.get("source")) or incident.source
    incident.system = fit(Incident.system, fields.get("system")) or incident.system
    incident.ops_ticket = fit(Incident.ops_ticket, fields.get("ops_ticket")) or incident.ops_ticket
    if fields.get("occurred_at"):
        incident.occurred_at = _moment(fields["occurred_at"])


def _moment(value: Any) -> datetime | None:
    """A time from the `incident` fields, which are applied before the registration form is checked:
    one that is not a time with its zone is left out (the form's check then names the field)."""
    try:
        moment = parse_time(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def apply_assessment(incident: Incident, assessment: Mapping[str, Any]) -> None:
    incident.type = assessment["type"]
    incident.fault_category = assessment["facts"].get("fault_category")
    incident.level = assessment["level"]
    incident.impact = assessment["impact"]
    incident.urgency = assessment["urgency"]
    incident.emergency = assessment["emergency"]
    incident.core_impact_unconfirmed = rules.core_impact_unconfirmed(rules.parse_facts(assessment["facts"]))
    incident.registered_at = parse_time(assessment["registered_at"])
    incident.due_at = parse_time(assessment["due_at"])
    incident.warn_at = parse_time(assessment["warn_at"])
    incident.notify_by = parse_time(assessment["notify_by"]) if assessment["notify_by"] else None
    if incident.status == NEW:
        incident.status = OPEN


def apply_event(incident: Incident, kind: str, data: Mapping[str, Any], now: datetime) -> None:
    """Update the columns an engine event changes."""
    if kind in ("classified", "reclassified"):
        apply_assessment(incident, data["assessment"])
    elif kind == "dispatched":
        incident.current_stage, incident.current_group = data["stage"], data["group"]
    elif kind == "deadline_warning":
        incident.warned = True
    elif kind == "deadline_breach":
        incident.breached = True
    elif kind == "resolved":
        incident.status = RESOLVED
        incident.resolved_at = parse_time(data["resolved_at"])
        incident.resolution_kind = data["kind"]
        incident.resolved_stage = data["stage"]
        incident.resolved_in_time = incident.due_at is None or incident.resolved_at <= incident.due_at
    elif kind == "task_completed" and incident.status == RESOLVED:
        answer = data["data"].get(CONFIRMATION)
        # the requester's answer, or the service desk's follow-up call (回访确认)
        if isinstance(answer, Mapping) and (answer.get("resolved") is True or answer.get("answer") == "resolved"):
            incident.status = CONFIRMED
    elif kind == "reopened":
        incident.status = OPEN
        incident.reopen_count += 1
        incident.resolved_at = incident.resolved_in_time = incident.resolution_kind = None
    elif kind == "transferred":
        incident.change_kind, incident.change_reference = (
            data["kind"],
            fit(Incident.change_reference, data["reference"]),
        )
        incident.status = WAITING_CHANGE
    elif kind == "change_returned":
        apply_assessment(incident, data["assessment"])
        incident.status = OPEN
    elif kind == "closed":
        incident.status, incident.closure_code, incident.closed_at = CLOSED, data["code"], now
    elif kind == "withdrawn":  # closed before registration; it never had a deadline
        incident.status, incident.closure_code, incident.closed_at = CLOSED, WITHDRAWN, now
    elif kind == "closed_as_duplicate":
        incident.status, incident.closure_code, incident.closed_at = CLOSED, DUPLICATE, now


def _follow_version(row: OpenTask, task: ReadyTask) -> None:
    """A task moved to another version of the process (app/incidents/moves.py) keeps its id but may have
    another element, name or lane there; a row that does not change is not written."""
    if (row.spec_id, row.name, row.lane) == (task.spec_id, task.name, task.lane):
        return
    if row.lane != task.lane:
        lane = LANES.get(task.lane)
        row.candidate_role = lane.candidate_role(task.data) if lane else None
    row.spec_id, row.name, row.lane = task.spec_id, task.name, task.lane


def sync_open_tasks(
    incident: Incident, ready: list[ReadyTask], now: datetime, registration_due: datetime | None = None
) -> list[OpenTask]:
    """Make the open-task rows match the ready tasks; returns the rows that were removed.

    A task is due when its incident is; before registration (a portal incident) the registration
    is due at `registration_due`. Each carries its incident's type, level and emergency flag (the inbox's filters).

    A task that comes back in the same operation (re-created after re-classification or an
    announcement) keeps the person who worked it, if they are still a candidate.
    """
    existing = {task.id: task for task in incident.open_tasks}
    ready_by_id = {task.id: task for task in ready}
    removed = [task for task_id, task in existing.items() if task_id not in ready_by_id]
    previous_assignee = {(task.spec_id, task.candidate_role): task.assignee_id for task in removed}
    for task in removed:
        incident.open_tasks.remove(task)
    for task in ready:
        if task.id in existing:
            _follow_version(existing[task.id], task)
            continue
        lane = LANES.get(task.lane)
        role = lane.candidate_role(task.data) if lane else None
        assignee = incident.requester_id if lane and lane.for_requester else previous_assignee.get((task.spec_id, role))
        incident.open_tasks.append(
            OpenTask(
                id=task.id,
                incident_id=incident.id,  # set now, not at the flush: audit rows of this action name it
                spec_id=task.spec_id,
                name=task.name,
                lane=task.lane,
                candidate_role=role,
                assignee_id=assignee,
                created_at=now,
                claimed_at=now if assignee else None,
            )
        )
    incident_due = {OPEN: incident.due_at, NEW: registration_due}.get(incident.status)
    for task in incident.open_tasks:
        task.due_at = ready_by_id[task.id].due or incident_due
        task.incident_type, task.incident_level, task.emergency = incident.type, incident.level, incident.emergency
    incident.current_lanes = ",".join(sorted({task.lane for task in incident.open_tasks}))
    return removed


def summarize_assignees(incident: Incident, names: Mapping[int, str]) -> None:
    incident.current_assignees = ",".join(
        sorted({names[task.assignee_id] for task in incident.open_tasks if task.assignee_id in names})
    )
