"""One instance's complete history for auditors: every audit event described in the reader's words,
with the data it changed, and the state of the hash chain."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit, audit_export
from app.forms import event_form
from app.models import AuditEvent, User
from app.web import labels
from app.web.audit_integrity import Integrity, integrity
from app.web.i18n import content
from app.web.reading import Reading, assignment_reason, read, version_model
from app.web.security import current_actor
from app.web.timefmt import local

SECONDS = "%Y-%m-%d %H:%M:%S"
TIMER_KINDS = ("deadline_warning", "deadline_breach", "notification_overdue")
ASSIGNMENT_KINDS = ("task_claimed", "task_released", "task_assigned")
LATE = "late_notification"  # the fact rule E1 adds; no form asks for it
ASSESSMENT_KEYS = ("level", "impact", "urgency", "emergency", "due_at")


@dataclass
class Detail:
    """One line of what an event changed or recorded: `label: before → after`, or `label: text`."""

    label: str
    text: str = ""
    before: str | None = None
    after: str | None = None
    changed: bool = True

    @property
    def is_change(self) -> bool:
        return self.before is not None or self.after is not None

    def plain(self) -> str:
        value = f"{self.before} → {self.after}" if self.is_change else self.text
        return f"{self.label}: {value}" if self.label else value


@dataclass
class Entry:
    event: AuditEvent
    data: dict[str, Any]
    roles: str
    details: list[Detail] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    timer: bool = False
    verified: str = "yes"  # yes / broken (this row) / after (after the broken row: not checked)


def _value(value: Any, names: Mapping[str, str] | None = None) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_value(item, names) for item in value)
    if isinstance(value, dict):
        return audit.canonical_json(value)
    if names and str(value) in names:
        return content(names[str(value)])
    return str(value)


def _when(value: Any) -> str:
    return local_seconds(value) if isinstance(value, str) and value else "—"


class Describer:
    """Turns each event's data into readable details: form titles and choice names from the
    version's forms, people from their ids, codes from the label tables."""

    def __init__(self, model: Any, users: Mapping[int, str]):
        self.model, self.users = model, users
        forms = getattr(model, "forms", None) or {}
        self.schemas = [schema for name, schema in sorted(forms.items()) if name.endswith(".schema.json")]
        self.facts_schema = event_form("update_facts")[0]  # the app's own form, not a version's

    def form_schema(self, spec_id: str | None) -> Mapping[str, Any] | None:
        try:
            return self.model.form(spec_id)[0] if self.model is not None and spec_id else None
        except (KeyError, AttributeError):
            return None

    def person(self, user_id: int | None) -> str:
        if user_id is None:
            return "—"
        return self.users.get(user_id) or _("user #%(id)s", id=user_id)

    def choice_names(self, path: tuple[str, ...]) -> dict[str, str]:
        """The names of a field's choices in any form of the version: a value written by an earlier
        task's form (say first line's `next_stage`) is named even where this task's form lacks it."""
        names: dict[str, str] = {}
        for schema in self.schemas:
            for value, name in audit_export.schema_field(schema, path)[1].items():
                names.setdefault(value, name)
        return names

    def leaves(self, leaves, schema) -> list[Detail]:
        details = []
        for path, before, after in leaves:
            title, names = audit_export.schema_field(schema, path)
            names = {**self.choice_names(path), **names}
            label = content(title) if title else ".".join(path)
            if after is None and before is not None:
                # a field this step left empty, not a deletion: the earlier step's answer stays on record
                details.append(Detail(label, text=_("not filled in this step (before: %(value)s)",
                                                   value=_value(before, names)), changed=False))  # fmt: skip
                continue
            details.append(Detail(label, before=_value(before, names), after=_value(after, names)))
        return details

    def facts(self, facts: Mapping[str, Any]) -> list[Detail]:
        details = []
        for key, value in facts.items():
            title, names = audit_export.schema_field(self.facts_schema, ("update", key))
            label = content(title) if title else _("Fault notification late (rule E1)") if key == LATE else key
            details.append(Detail(label, text=_value(value, names)))
        return details

    def assessment_change(self, key: str, before: Any, after: Any) -> Detail:
        formats: dict[str, Callable[[Any], str]] = {
            "level": lambda v: labels.label(labels.LEVELS, v),
            "impact": lambda v: labels.label(labels.IMPACTS, v),
            "urgency": lambda v: labels.label(labels.URGENCIES, v),
            "emergency": _value,
            "due_at": _when,
        }
        titles = {
            "level": _("Level"),
            "impact": _("Impact"),
            "urgency": _("Urgency"),
            "emergency": _("Emergency"),
            "due_at": _("Deadline"),
        }
        show = formats[key]
        return Detail(titles[key], before=show(before), after=show(after), changed=before != after)

    def assessment(self, assessment: Mapping[str, Any]) -> list[Detail]:
        return [
            Detail(_("Level"), text=labels.label(labels.LEVELS, assessment.get("level"))),
            Detail(_("Impact"), text=labels.label(labels.IMPACTS, assessment.get("impact"))),
            Detail(_("Urgency"), text=labels.label(labels.URGENCIES, assessment.get("urgency"))),
            Detail(_("Emergency"), text=_value(bool(assessment.get("emergency")))),
            Detail(_("Deadline"), text=_when(assessment.get("due_at"))),
            *(
                [Detail(_("Fault notification due"), text=_when(assessment["notify_by"]))]
                if assessment.get("notify_by")
                else []
            ),
            *(
                [Detail(_("Escalation rules applied"), text=", ".join(assessment["escalations"]))]
                if assessment.get("escalations")
                else []
            ),
        ]

    def describe(self, event: AuditEvent, data: Mapping[str, Any]) -> tuple[list[Detail], list[str]]:
        kind = event.kind
        if kind == "task_completed":
            leaves = audit_export.task_changes(data.get("changes") or {})
            details = self.leaves(leaves, self.form_schema(data.get("spec_id")))
            return details or [Detail("", text=_("No data changed."))], []
        if kind == "classified":
            assessment = data.get("assessment") or {}
            return self.assessment(assessment), list(assessment.get("reasons") or [])
        if kind == "reclassified":
            before, after = data.get("before") or {}, data.get("after") or {}
            details = [Detail(_("Rules"), text=", ".join(data.get("rules") or []) or _("none new"))]
            details += [self.assessment_change(key, before.get(key), after.get(key)) for key in ASSESSMENT_KEYS]
            if data.get("source"):
                details.append(Detail(_("Source"), text=_source(data["source"])))
            if data.get("note"):
                details.append(Detail(_("Note"), text=str(data["note"])))
            details += self.facts(data.get("changes") or {})
            return details, list((data.get("assessment") or {}).get("reasons") or [])
        if kind in ASSIGNMENT_KINDS:
            details = [
                Detail(_("Assignee"), before=self.person(data.get("before")), after=self.person(data.get("after")))
            ]
            if data.get("reason"):
                details.append(Detail(_("Reason"), text=assignment_reason(data["reason"])))
            return details, []
        return self.other(kind, data), []

    def other(self, kind: str, data: Mapping[str, Any]) -> list[Detail]:
        if kind == "started":
            details = [Detail(_("Process version"), text=str(data.get("process_version", "—")))]
            if data.get("parent_id"):
                details.append(Detail(_("Follows up"), text=f"INC{data['parent_id']:06d}"))
            start = self.form_schema(getattr(self.model, "start_task", None))
            for key, value in (data.get("incident") or {}).items():  # what it was raised with, every field
                title, names = audit_export.schema_field(start, ("incident", key))
                details.append(Detail(content(title) if title else key, text=_value(value, names)))
            return details
        if kind == "dispatched":
            text = labels.label(labels.STAGES, data.get("stage"))
            if data.get("group"):
                text += " · " + labels.label(labels.GROUPS, data["group"])
            return [Detail(_("Handed to"), text=text)]
        if kind in ("deadline_warning", "deadline_breach"):
            return [
                Detail(_("Deadline"), text=_when(data.get("due_at"))),
                Detail(_("Level"), text=labels.label(labels.LEVELS, data.get("level"))),
            ]
        if kind == "notification_overdue":
            return [Detail("", text=_("The fault notification window passed (rule E1)."))]
        if kind == "resolved":
            return [
                Detail(_("Resolution type"), text=labels.label(labels.CLOSURE_CODES, data.get("kind"))),
                Detail(_("Stage"), text=labels.label(labels.STAGES, data.get("stage"))),
                Detail(_("Details"), text=str(data.get("text") or "—")),
            ]
        if kind == "closed":
            return [Detail(_("Closure code"), text=labels.label(labels.CLOSURE_CODES, data.get("code")))]
        if kind == "transferred":
            return [Detail(labels.label(labels.CHANGE_KINDS, data.get("kind")), text=str(data.get("reference")))]
        if kind == "change_returned":
            return [
                Detail(_("Reference"), text=str(data.get("reference") or "—")),
                Detail(_("Waited (hours)"), text=str(data.get("waited_hours"))),
            ]
        if kind == "facts_added":
            details = self.facts(data.get("facts") or {})
            return details + ([Detail(_("Note"), text=data["note"])] if data.get("note") else [])
        if kind in ("reopened", "forwarded_for_tracking", "change_reported_done", "urgent_handling_demanded",
                    "coordination_note", "recovery_confirmed"):  # fmt: skip
            text = data.get("reason") or data.get("note")
            reason = kind in ("reopened", "urgent_handling_demanded")
            return [Detail(_("Reason") if reason else _("Note"), text=text)] if text else []
        if kind == "announced":
            return [Detail(_("Announcement"), text=str(data.get("text") or ""))]
        if kind in ("follow_up_requested", "problem_ticket_requested", "problem_ticket_created"):
            return [Detail(_("Title"), text=str(data.get("title") or "—"))]
        if kind == "task_withdrawn":
            return [
                Detail("", text=_("The process withdrew this task: it was no longer needed.")),
                Detail(_("Assignee"), text=self.person(data.get("assignee_id"))),
            ]
        if kind == "migrated":
            moved = f"{data.get('version_before')} → {data.get('version_after')}"
            return [Detail(_("Process version"), text=moved)]
        if kind == "engine_error":
            return [Detail(_("Error"), text=str(data.get("error") or ""))]
        return [Detail(key, text=_value(value)) for key, value in data.items()]


def _source(code: str) -> str:
    """Who asked for a re-classification (`case_updated` payload `source`)."""
    if code == "handler":
        return _("facts added by a handler")
    if code == "E1":
        return _("rule E1: the fault notification was late")
    if code == "leadership":
        return _("leadership's demand for urgent handling")
    return code


def _user_ids(events: list[AuditEvent], datas: list[dict[str, Any]]) -> set[int]:
    ids = {event.actor_id for event in events if event.actor_id is not None}
    for event, data in zip(events, datas, strict=True):
        if event.kind in ASSIGNMENT_KINDS:
            ids.update(value for value in (data.get("before"), data.get("after")) if isinstance(value, int))
        elif event.kind == "task_withdrawn" and isinstance(data.get("assignee_id"), int):
            ids.add(data["assignee_id"])
    return ids


def _roles(role_text: str) -> str:
    return ", ".join(labels.label(labels.ROLES, role) for role in role_text.split(",") if role)


@dataclass
class History:
    reading: Reading  # the whole record, as the incident page shows it
    entries: list[Entry]
    records: list[dict[str, Any]]
    open_spec_ids: list[str]
    integrity: Integrity

    @property
    def view(self):
        return self.reading.view


def load_history(session: Session, incident_id: int) -> History | None:
    found = read(session, incident_id, current_actor())
    if found is None:
        return None
    view = found.view
    events = view.timeline
    datas = [audit.data_of(event) for event in events]
    ids = _user_ids(events, datas)
    users = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    check = integrity(session, incident_id)
    describer = Describer(version_model(session, view.incident.process_version_id), users)
    entries = []
    for event, data in zip(events, datas, strict=True):
        details, reasons = describer.describe(event, data)
        verified = "yes"
        problem = check.problem
        if problem is not None and problem.chain == event.chain and problem.seq is not None:
            verified = "broken" if event.seq == problem.seq else "after" if event.seq > problem.seq else "yes"
        entries.append(
            Entry(event, data, _roles(event.actor_role), details, reasons, event.kind in TIMER_KINDS, verified)
        )
    return History(
        reading=found,
        entries=entries,
        records=[audit_export.history_record(event) for event in events],
        open_spec_ids=[task.spec_id for task in view.open_tasks],
        integrity=check,
    )


def local_seconds(value: str | datetime | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return local(moment, SECONDS)
