"""An incident, its tasks and its record as JSON, cut to what the reader may see: the cut itself is
made by `app.web.reading.read` and `app.incidents.visibility`, the same as on the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from app.alarms import recovery
from app.api import schemas
from app.audit import Actor
from app.incidents import permissions, visibility
from app.incidents.answers import Answer, Section
from app.links.service import Links
from app.models import Incident, OpenTask
from app.web.i18n import content
from app.web.reading import Reading, answer_text, label_text

# The incident's columns an internal reader gets (the workflow text and the lock are never shown).
INTERNAL_COLUMNS = (
    "id", "title", "status", "source", "system", "type", "fault_category", "level", "impact", "urgency",
    "emergency", "registered_at", "occurred_at", "due_at", "warn_at", "notify_by", "warned", "breached",
    "current_stage", "current_group", "current_assignees", "requester_id", "requester_name", "created_at",
    "updated_at", "resolved_at", "resolved_in_time", "resolution_kind", "resolved_stage", "closed_at",
    "closure_code", "reopen_count", "change_kind", "change_reference", "parent_id", "ops_ticket",
)  # fmt: skip
SUMMARY_COLUMNS = tuple(name for name in schemas.IncidentSummary.model_fields if name != "number")


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def columns(incident: Incident, internal: bool) -> dict[str, Any]:
    names = INTERNAL_COLUMNS if internal else visibility.REQUESTER_COLUMNS
    return {"number": incident.number, **{name: _value(getattr(incident, name)) for name in names}}


def summary(incident: Incident, internal: bool) -> schemas.IncidentSummary:
    shown = SUMMARY_COLUMNS if internal else visibility.REQUESTER_COLUMNS
    values = {name: getattr(incident, name) for name in SUMMARY_COLUMNS if name in shown}
    return schemas.IncidentSummary(number=incident.number, **values)


def answer(item: Answer) -> schemas.AnswerOut:
    return schemas.AnswerOut(path=item.path, label=label_text(item.label), value=item.value, text=answer_text(item))


def section(item: Section | None) -> schemas.SectionOut | None:
    if item is None:
        return None
    return schemas.SectionOut(
        variable=item.variable, title=content(item.title), answers=[answer(a) for a in item.answers]
    )


def task(row: OpenTask, actor: Actor, incident: Incident) -> schemas.TaskOut:
    return schemas.TaskOut(
        kind="task",
        id=row.id,
        incident_id=row.incident_id,
        spec_id=row.spec_id,
        name=content(row.name),
        lane=row.lane,
        candidate_role=row.candidate_role,
        assignee=row.assignee.display_name if row.assignee else None,
        due_at=row.due_at,
        created_at=row.created_at,
        may_work=permissions.may_work(actor, row, incident),
    )


def recovery_check(item: recovery.Pending, actor: Actor) -> schemas.TaskOut:
    return schemas.TaskOut(
        kind="recovery_check",
        id=str(item.check.id),
        incident_id=item.check.incident_id,
        name=_("Confirm recovery"),
        candidate_role=item.role,
        assignee=item.holder_name,
        created_at=item.check.created_at,
        may_work=recovery.may_confirm(actor, item.holder_id, item.role),
        alarm=item.alarm.summary,
    )


def links(found: Links | None) -> schemas.LinksOut | None:
    if found is None:
        return None
    return schemas.LinksOut(
        parent=summary(found.parent, True) if found.parent else None,
        children=[summary(child, True) for child in found.children],
        outgoing=[schemas.LinkRef(kind=row.kind, incident=summary(other, True)) for row, other in found.outgoing],
        incoming=[schemas.LinkRef(kind=row.kind, incident=summary(other, True)) for row, other in found.incoming],
    )


def incident(reading: Reading, actor: Actor) -> schemas.IncidentOut:
    internal, record, view = reading.internal, reading.record, reading.view
    return schemas.IncidentOut(
        audience=reading.audience,
        incident=columns(view.incident, internal),
        raised_with=section(record.raised_with),
        facts=[
            schemas.FactOut(answer=answer(fact.answer), given=schemas.GivenOut(name=fact.given.name, at=fact.given.at))
            for fact in record.facts
        ],
        assessment=dict(view.assessment) if view.assessment else None,
        solution=dict(record.solution) if record.solution else None,
        open_tasks=[task(row, actor, view.incident) for row in view.open_tasks],
        announcements=[
            schemas.AnnouncementOut(
                text=item.text, published_at=item.published_at, published_by=item.published_by if internal else None
            )
            for item in view.announcements
        ],
        timeline=[
            schemas.EntryOut(
                id=entry.id,
                at=entry.at,
                kind=entry.kind,
                category=entry.category,
                author=entry.author.name,
                author_role=entry.author.role,
                task_name=content(entry.task_name) if entry.task_name else None,
                text=entry.text,
                sections=[section(item) for item in entry.sections],
                facts=[answer(item) for item in entry.facts],
            )
            for entry in reading.entries
        ],
        links=links(reading.links),
    )
