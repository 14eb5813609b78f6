"""What each reader may see of an incident: the one place where the requester/internal line is drawn.

Handlers, leadership and auditors read the whole record (`INTERNAL`). The person who raised an
incident reads the requester-side record (`REQUESTER`): their own text, the status, public
announcements, the solution, and what they are asked to do — never an internal note, a handler's
form answer, an internal task or a handler's name. Every page and export that shows incident data
asks this module; `tests/web/test_visibility.py` checks every route against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.audit import Actor
from app.engine.lanes import LANES, REQUESTER
from app.incidents.permissions import HANDLER_ROLES
from app.models import Incident, OpenTask

INTERNAL = "internal"
REQUESTER_SIDE = "requester"

# Roles that read every incident, whole.
READER_ROLES = HANDLER_ROLES | {"leadership", "auditor"}

# The variable holding what an incident was raised with (title, description, contact…): the
# requester's own text, whoever typed it (docs/process-model.md, the contract with the diagram).
RAISED_WITH = "incident"

# A form field (or a whole form variable) marked so in its UI schema is internal: the requester
# never sees it, on their own form or in the record (the service desk's box on a confirmation).
INTERNAL_MARK = "ui:internal"

# The audit events the requester reads, and which of their data: nothing else leaves the house.
REQUESTER_EVENTS: Mapping[str, tuple[str, ...]] = {
    "started": (RAISED_WITH,),
    "resolved": ("kind", "text"),
    "reopened": ("reason",),
    "announced": ("text",),
    "transferred": ("kind",),
    "change_returned": ("waited_hours",),
    "closed": ("code",),
    "task_completed": ("spec_id", "data"),  # their own answers only: see `requester_sees_answer`
    "withdrawn": ("reason",),
    "closed_as_duplicate": (),  # that it was, not of which incident (someone else's, perhaps)
    "comment_added": ("text",),  # a comment, theirs or a handler's; never a work note (`work_note_added`)
    "attachment_added": ("attachment_id", "filename", "content_type", "size", "side"),  # requester-side ones only
}

# An attachment's side (app/attachments): what the requester attached, or a handler attached to a
# comment or marked for them. Every other attachment is internal.
REQUESTER_ATTACHMENT = "requester"


def requester_sees_attachment(side: str) -> bool:
    return side == REQUESTER_ATTACHMENT


def audience(actor: Actor, incident: Incident) -> str | None:
    """How this person reads the incident: whole, requester-side, or not at all (None)."""
    if actor.roles & READER_ROLES:
        return INTERNAL
    own = actor.user_id is not None and actor.user_id == incident.requester_id
    return REQUESTER_SIDE if own and REQUESTER in actor.roles else None


def is_requester_lane(lane: str | None) -> bool:
    found = LANES.get(lane or "")
    return found is not None and found.for_requester


def requester_sees_task(task: OpenTask) -> bool:
    """The requester's own tasks (confirm the resolution): what they are asked to do."""
    return is_requester_lane(task.lane)


def is_internal(ui: Mapping[str, Any] | None) -> bool:
    return bool(ui) and bool(ui.get(INTERNAL_MARK))


def requester_sees_answer(lane: str | None, variable: str, variable_ui: Mapping[str, Any], field_ui: Any) -> bool:
    """A form answer is requester-side when it is their own (a task of the requester's lane) or
    what the incident was raised with, and neither the field nor its variable is marked internal."""
    if is_internal(variable_ui) or is_internal(field_ui if isinstance(field_ui, Mapping) else None):
        return False
    return is_requester_lane(lane) or variable == RAISED_WITH


def requester_form(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A form as the requester fills it in: without its internal fields (the service desk's box on
    a confirmation); what they submit is read with this schema, so those fields cannot be sent."""
    properties = dict(schema.get("properties") or {})
    for variable, prop in list(properties.items()):
        variable_ui = ui.get(variable) if isinstance(ui.get(variable), Mapping) else {}
        if is_internal(variable_ui):
            del properties[variable]
        elif prop.get("type") == "object":
            hidden = {name for name, field in variable_ui.items() if isinstance(field, Mapping) and is_internal(field)}
            inner = {name: value for name, value in (prop.get("properties") or {}).items() if name not in hidden}
            required = [name for name in prop.get("required", []) if name not in hidden]
            properties[variable] = {**prop, "properties": inner, "required": required}
    required = [name for name in schema.get("required", []) if name in properties]
    return {**schema, "properties": properties, "required": required}, dict(ui)


def requester_data(kind: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The part of an audit event's data the requester may read; None: the event is internal."""
    keys = REQUESTER_EVENTS.get(kind)
    if keys is None or (kind == "attachment_added" and not requester_sees_attachment(data.get("side", ""))):
        return None
    return {key: data[key] for key in keys if key in data}


# The incident's own columns the requester reads (their card and portal list); every other column
# (type, level, deadlines, who holds it…) is internal.
REQUESTER_COLUMNS = ("id", "title", "status", "created_at", "resolved_at", "closed_at")
