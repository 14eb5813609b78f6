"""An incident's timeline: everything people wrote and everything that happened, as typed entries.

Audit rows become entries: a step's answers with their labels (from the form of the version the
incident runs on), notes, announcements, the solution, classification changes, hand-overs,
assignments. Each entry has a category (the timeline's filter) and is built for one audience:
the requester's timeline is made of requester-side entries only, each cut down to what the
requester may read (`app.incidents.visibility`), so no page can show them more by mistake.
Work notes (internal) and comments (requester-side) are entries of their own (`app.comments`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app import audit
from app.engine.model import ProcessModel
from app.incidents import visibility
from app.incidents.answers import Answer, Section, sections
from app.incidents.permissions import HANDLER_ROLES
from app.incidents.record import HANDLER, FactLabels, raised_with_sections, task_form, unlabelled
from app.models import AuditEvent

WORK, CLASSIFICATION, FLOW, ASSIGNMENT = "work", "classification", "flow", "assignment"
CATEGORIES = (WORK, CLASSIFICATION, FLOW, ASSIGNMENT)
UNLISTED = ("attachment_downloaded",)  # in the audit history, not in an incident's timeline
NOTES = ("work_note_added", "comment_added", "withdrawn")  # entries whose text is what someone wrote

# audit kind → category; a kind not listed is a FLOW entry
KINDS: Mapping[str, str] = {
    "started": WORK,
    "task_completed": WORK,
    "facts_added": WORK,
    "forwarded_for_tracking": WORK,
    "announced": WORK,
    "resolved": WORK,
    "reopened": WORK,
    "work_note_added": WORK,
    "comment_added": WORK,
    "withdrawn": WORK,
    "closed_as_duplicate": WORK,
    "attachment_added": WORK,
    "change_reported_done": WORK,
    "urgent_handling_demanded": WORK,
    "coordination_note": WORK,
    "recovery_confirmed": WORK,
    "classified": CLASSIFICATION,
    "reclassified": CLASSIFICATION,
    "task_claimed": ASSIGNMENT,
    "task_released": ASSIGNMENT,
    "task_assigned": ASSIGNMENT,
}


@dataclass(frozen=True)
class Author:
    """Who wrote or did it, as this audience may know them: a requester reads a handler's role,
    never their name (`name` None)."""

    name: str | None
    role: str | None  # the role they acted in (a code)
    system: bool = False
    is_requester: bool = False  # the incident's requester themself


@dataclass(frozen=True)
class Entry:
    id: int  # the audit row
    at: datetime
    kind: str  # the audit kind
    category: str
    visibility: str
    author: Author
    task_name: str | None = None
    sections: tuple[Section, ...] = ()  # a step's answers
    facts: tuple[Answer, ...] = ()  # facts given (added facts, a re-classification's changes)
    text: str | None = None  # the note, announcement, solution or reason, as written
    data: Mapping[str, Any] = field(default_factory=dict)  # the rest, for the entry's own line


def build(
    events: Iterable[AuditEvent],
    model: ProcessModel | None,
    audience: str,
    requester_id: int | None,
    category: str | None = None,
) -> list[Entry]:
    """The timeline for this audience, newest first, of one category or all."""
    events = [event for event in events if event.kind not in UNLISTED]
    builder = _Builder(model, audience, requester_id)
    # Raised and registered in one go by the service desk: the registration entry says it all.
    start = model.start_task if model is not None else None
    registered = {e.at for e in events if e.kind == "task_completed" and audit.data_of(e).get("spec_id") == start}
    entries = (builder.entry(e) for e in reversed(events) if not (e.kind == "started" and e.at in registered))
    return [entry for entry in entries if entry is not None and category in (None, entry.category)]


class _Builder:
    def __init__(self, model: ProcessModel | None, audience: str, requester_id: int | None):
        self.model, self.audience, self.requester_id = model, audience, requester_id
        self.for_requester = audience == visibility.REQUESTER_SIDE
        self.fact_labels = FactLabels(model)

    def entry(self, event: AuditEvent) -> Entry | None:
        data = audit.data_of(event)
        public = visibility.requester_data(event.kind, data)
        if self.for_requester:
            if public is None:
                return None
            data = public
        text, facts, answered = None, (), ()
        if event.kind == "task_completed":
            answered = self.answers(data.get("spec_id"), data.get("data") or {}, self.for_requester)
            theirs = answered if self.for_requester else self.answers(data["spec_id"], data["data"] or {}, True)
            if not theirs:  # nothing of this step is the requester's to read
                if self.for_requester:
                    return None
                public = None
        elif event.kind == "started":
            answered = raised_with_sections(self.model, data.get(visibility.RAISED_WITH) or {})
        elif event.kind == "facts_added" or (event.kind == "reclassified" and data.get("source") != HANDLER):
            # a handler's facts and note are on their facts_added entry; others (rule E1) on this one
            facts = self.facts(data.get("facts") or data.get("changes") or {})
            text = data.get("note")
        elif event.kind in (
            "forwarded_for_tracking",
            "announced",
            "reopened",
            "change_reported_done",
            "urgent_handling_demanded",
            "coordination_note",
            "recovery_confirmed",
            *NOTES,
        ) or (  # fmt: skip
            event.kind == "resolved" and self.for_requester  # handlers read it in the step's answers
        ):
            text = data.get("note") or data.get("text") or data.get("reason")
        return Entry(
            id=event.id,
            at=event.at,
            kind=event.kind,
            category=KINDS.get(event.kind, FLOW),
            visibility=visibility.INTERNAL if public is None else visibility.REQUESTER_SIDE,
            author=self.author(event),
            task_name=event.task_name,
            sections=tuple(answered),
            facts=tuple(facts),
            text=text,
            data=data,
        )

    def author(self, event: AuditEvent) -> Author:
        roles = [role for role in event.actor_role.split(",") if role]
        if event.actor_id is None:
            return Author(None, None, system=True)
        mine = self.requester_id is not None and event.actor_id == self.requester_id
        role = next((role for role in sorted(roles) if role in HANDLER_ROLES), roles[0] if roles else None)
        if mine:
            return Author(event.actor_name, role, is_requester=True)
        return Author(None if self.for_requester else event.actor_name, role)

    def answers(self, spec_id: str | None, data: Mapping[str, Any], requester_side: bool) -> list[Section]:
        form = task_form(self.model, spec_id)
        if form is None:  # a version this code cannot read: keys and values, and nothing for the requester
            return [] if requester_side else unlabelled(data)
        schema, ui = form
        lane = self.model.lanes.get(spec_id or "") if self.model else None

        def keep(variable: str, variable_ui: Mapping[str, Any], field_ui: Any) -> bool:
            return not requester_side or visibility.requester_sees_answer(lane, variable, variable_ui, field_ui)

        return sections(schema, ui, data, keep)

    def facts(self, facts: Mapping[str, Any]) -> list[Answer]:
        return [self.fact_labels.answer(key, value) for key, value in facts.items()]
