"""An incident as one reader reads it: the whole record and the timeline for their audience
(`app.incidents.visibility`), and the helpers the templates draw answers with."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import Flask, current_app
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.attachments import service as files
from app.audit import Actor
from app.engine.model import ProcessModel
from app.incidents import assignments, timeline, visibility
from app.incidents import record as records
from app.incidents.answers import CHOICE, LONG_TEXT, NUMBER, TIME, YES_NO, Answer, Section
from app.incidents.permissions import HANDLER_ROLES
from app.links import service as relations
from app.messages import N_, Message
from app.models import Incident, User
from app.web import incident_service, labels, queries
from app.web.i18n import content, translate
from app.web.i18n import gettext as _
from app.web.timefmt import local

CATEGORY_NAMES = {
    timeline.WORK: N_("Written work"),
    timeline.CLASSIFICATION: N_("Classification"),
    timeline.FLOW: N_("Flow and status"),
    timeline.ASSIGNMENT: N_("Assignment"),
}
ASSIGNMENT_KINDS = ("task_claimed", "task_released", "task_assigned")
ASSIGNMENT_REASONS = {
    assignments.REOPENED: N_("back to the handler who resolved it, after the reopen"),
    assignments.ACCOUNT_DISABLED: N_("the account was deactivated"),
    assignments.ROLE_REMOVED: N_("the account no longer has the task's role"),
}


@dataclass
class Reading:
    view: queries.IncidentView
    audience: str
    record: records.Record
    entries: list[timeline.Entry]
    category: str | None  # the timeline's filter (None: everything)
    counts: dict[str, int]  # entries per category, before filtering
    people: dict[int, str]  # user id → name, for assignments (internal readers only)
    attachments: list = field(default_factory=list)  # the files this reader may open (app/attachments)
    links: relations.Links | None = None  # related incidents (internal readers only)

    @property
    def incident(self):
        return self.view.incident

    @property
    def internal(self) -> bool:
        return self.audience == visibility.INTERNAL


def version_model(session: Session, version_id: int) -> ProcessModel | None:
    """The parsed model of the version an incident runs on (parsed once per version; its row is
    read only then)."""
    try:
        return incident_service().models.get_by_id(session, version_id)
    except Exception:  # a version this code can no longer parse: labels fall back to the raw keys
        current_app.logger.exception("process version %s could not be loaded", version_id)
        return None


def read(
    session: Session, incident_id: int, actor: Actor, category: str | None = None, incident: Incident | None = None
) -> Reading | None:
    """The incident as `actor` may read it; None when they may not (or it does not exist). `incident`: its
    row, if just read."""
    view = queries.incident_view(session, incident_id, incident)
    if view is None:
        return None
    audience = visibility.audience(actor, view.incident)
    if audience is None:
        return None
    model = version_model(session, view.incident.process_version_id)
    requester_id = view.incident.requester_id
    entries = timeline.build(view.timeline, model, audience, requester_id)
    counts = {name: sum(1 for entry in entries if entry.category == name) for name in timeline.CATEGORIES}
    category = category if category in timeline.CATEGORIES else None
    record = records.build(view.timeline, model)
    internal = audience == visibility.INTERNAL
    if not internal:  # the requester-side view: nothing else reaches the template
        tasks = [task for task in view.open_tasks if visibility.requester_sees_task(task)]
        view = replace(view, assessment=None, open_tasks=tasks, timeline=[], problem_tickets=[], parent=None,
                       follow_ups=[])  # fmt: skip
        record = records.requester_side(record, requester_id)
    return Reading(
        view=view,
        audience=audience,
        record=record,
        entries=[entry for entry in entries if category in (None, entry.category)],
        category=category,
        counts=counts,
        people=_people(session, entries) if internal else {},
        attachments=files.of_incident(session, incident_id, audience),
        links=relations.links_of(session, incident_id) if internal else None,
    )


def _people(session: Session, entries: list[timeline.Entry]) -> dict[int, str]:
    ids = set()
    for entry in entries:
        if entry.kind in ASSIGNMENT_KINDS:
            ids.update(value for value in (entry.data.get("before"), entry.data.get("after")) if isinstance(value, int))
        elif entry.kind == "task_withdrawn" and isinstance(entry.data.get("assignee_id"), int):
            ids.add(entry.data["assignee_id"])
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# ---------------------------------------------------------------------------------- template helpers


def label_text(label: str | Message) -> str:
    """A form label (process content) or a message of the code, in the reader's language."""
    return translate(label) if isinstance(label, Message) else content(label)


def answer_text(answer: Answer) -> str:
    if answer.kind == CHOICE:
        return _(", ").join(content(name) for name in answer.names)
    if answer.kind == YES_NO:
        return _("yes") if answer.value else _("no")
    if answer.kind == NUMBER:
        value = answer.value
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if answer.kind == TIME and isinstance(answer.value, str):
        try:
            return local(datetime.fromisoformat(answer.value))
        except ValueError:
            return answer.value
    return str(answer.value)


# An answer and a section's answers are drawn here, not by template macros: a timeline draws dozens, and
# a macro's call cost more than what it draws (as with the lists' cells, app/web/cells.py). Every value
# is escaped; the markup is the macros' it replaces, whitespace included.
def answer_html(answer: Answer) -> Markup:
    """An answer's value as the record shows it: a long text as a block of its own."""
    if answer.kind == LONG_TEXT:
        return Markup(f'<div class="longtext">{escape(answer.value)}</div>')
    return escape(answer_text(answer))


def answers_html(section: Section, skip: Collection[str] = ()) -> Markup:
    """A section's answers as a list of terms, each value marked with its path."""
    rows = "".join(
        f"\n    <dt>{escape(label_text(item.label))}</dt>"
        f'<dd data-answer="{escape(item.path)}">{answer_html(item)}</dd>\n  '
        for item in section.answers
        if item.path not in skip
    )
    return Markup(f'<dl class="answers">\n  {rows}\n  </dl>')


def roles_label(roles: str) -> str:
    """The role someone acted in, from an audit row's roles: a handler role before any other."""
    listed = [role for role in roles.split(",") if role]
    chosen = next((role for role in sorted(listed) if role in HANDLER_ROLES), listed[0] if listed else None)
    return labels.label(labels.ROLES, chosen)


def assignment_reason(code: str) -> str:
    return _(ASSIGNMENT_REASONS[code]) if code in ASSIGNMENT_REASONS else code


def init(app: Flask) -> None:
    app.jinja_env.filters["fromiso"] = lambda text: datetime.fromisoformat(text) if text else None
    app.jinja_env.globals.update(
        label_text=label_text,
        answer_text=answer_text,
        answer_value=answer_html,
        answers=answers_html,
        roles_label=roles_label,
        category_name=lambda name: _(CATEGORY_NAMES[name]),
        assignment_reason=assignment_reason,
        timeline_categories=timeline.CATEGORIES,
    )
