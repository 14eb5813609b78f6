"""The whole record of an incident as it stands: what it was raised with, every fact with who gave
it and when, the current classification, the solution, the confirmation and the closure — read
from the audit rows (pages never load a workflow) and labelled by the version's forms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from app import audit
from app.engine.model import ProcessModel
from app.forms import event_form
from app.incidents import visibility
from app.incidents.answers import Answer, Section, answer, field_schema, says_something, sections
from app.messages import N_, Message
from app.models import AuditEvent

LATE_NOTIFICATION = "late_notification"  # the fact rule E1 adds; no form asks for it
HANDLER = "handler"  # a re-classification asked for by a handler's facts (`case_updated` source)
FACTS = "facts"  # the registration form's variable of classification facts
CONFIRMATION, CLOSURE = "confirmation", "closure"  # the variables of 确认解决结果 and 关闭事件


@dataclass(frozen=True)
class Given:
    """Who gave a value (an audit row's actor; None: the system) and when."""

    name: str | None
    user_id: int | None
    roles: str
    at: datetime


@dataclass(frozen=True)
class Fact:
    answer: Answer
    given: Given
    earlier: tuple[tuple[Answer, Given], ...] = ()  # the values it had before, newest first


@dataclass(frozen=True)
class Record:
    raised: Given | None = None
    raised_with: Section | None = None  # description, contact…: the latest text, labelled
    raised_with_given: Given | None = None  # who wrote that text last (the requester, or the desk at registration)
    facts: tuple[Fact, ...] = ()
    assessment: Mapping[str, Any] | None = None
    solution: Mapping[str, Any] | None = None  # kind, text, stage (the current one: none after a reopen)
    solution_given: Given | None = None
    confirmation: Section | None = None  # the requester's latest answer
    confirmation_public: Section | None = None  # the same without its internal fields (the desk's box)
    closure: Section | None = None  # the closing step's answers (internal)


class FactLabels:
    """A fact's label and choice names: from the version's registration form, else the add-facts form."""

    def __init__(self, model: ProcessModel | None):
        self.forms: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = []
        if model is not None and model.start_task in model.user_tasks:
            schema, ui = model.form(model.start_task)
            self.forms.append((FACTS, schema, ui))
        schema, ui = event_form("update_facts")
        self.forms.append((next(iter(schema["properties"])), schema, ui))

    def answer(self, key: str, value: Any) -> Answer:
        if key == LATE_NOTIFICATION:
            return Answer(key, Message(N_("Fault notification late (rule E1)")), value, "yes_no")
        for variable, schema, ui in self.forms:
            prop = field_schema(schema, (variable, key))
            if prop is not None:
                return answer((key,), prop, (ui.get(variable) or {}).get(key), value)
        return answer((key,), None, None, value)

    def says_something(self, key: str, value: Any) -> bool:
        """Judged by the first form's defaults: an unticked box at registration says nothing."""
        variable, schema, _ui = self.forms[0]
        return says_something(field_schema(schema, (variable, key)), value)


def task_form(model: ProcessModel | None, spec_id: str | None) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """(schema, UI schema) of a user task of the version, if it has that task."""
    if model is None or spec_id not in model.user_tasks:
        return None
    return model.form(spec_id)


def given(event: AuditEvent) -> Given:
    return Given(event.actor_name if event.actor_id is not None else None, event.actor_id, event.actor_role, event.at)


def build(events: Iterable[AuditEvent], model: ProcessModel | None) -> Record:
    """The record from an incident's audit rows (oldest first)."""
    labels = FactLabels(model)
    start = model.start_task if model is not None else None
    raised = raised_with = raised_with_given = assessment = solution = solution_given = None
    confirmation = confirmation_public = closure = None
    facts: dict[str, list[tuple[Answer, Given]]] = {}

    def give(values: Mapping[str, Any], event: AuditEvent) -> None:
        for key, value in values.items():
            history = facts.setdefault(key, [])
            # a fact is shown once anyone said something with it; then every change counts
            if history or labels.says_something(key, value):
                history.append((labels.answer(key, value), given(event)))

    for event in events:
        data = audit.data_of(event)
        if event.kind == "started":
            raised = given(event)
            raised_with, raised_with_given = _raised_with(model, data.get(visibility.RAISED_WITH) or {}), raised
        elif event.kind == "task_completed":
            answers = data.get("data") or {}
            form = task_form(model, data.get("spec_id"))
            if data.get("spec_id") == start:
                give(answers.get(FACTS) or {}, event)
                if isinstance(answers.get(visibility.RAISED_WITH), Mapping):
                    raised_with, raised_with_given = _raised_with(model, answers[visibility.RAISED_WITH]), given(event)
            if form is not None and isinstance(answers.get(CONFIRMATION), Mapping):
                said = {CONFIRMATION: answers[CONFIRMATION]}
                public = partial(visibility.requester_sees_answer, model.lanes.get(data["spec_id"]))
                confirmation = _first(sections(*form, said, lambda *_: True))
                confirmation_public = _first(sections(*form, said, public))
            if form is not None and isinstance(answers.get(CLOSURE), Mapping):
                closure = _first(sections(*form, {CLOSURE: answers[CLOSURE]}, lambda *_: True))
        elif event.kind == "facts_added":
            give(data.get("facts") or {}, event)
        elif event.kind == "reclassified" and data.get("source") != HANDLER:
            give(data.get("changes") or {}, event)
        if event.kind in ("classified", "reclassified") and "assessment" in data:
            assessment = data["assessment"]
        elif event.kind == "resolved":
            solution, solution_given, confirmation, confirmation_public = data, given(event), None, None
        elif event.kind == "reopened":
            solution = solution_given = None
    return Record(
        raised=raised,
        raised_with=raised_with,
        raised_with_given=raised_with_given,
        facts=tuple(
            Fact(history[-1][0], history[-1][1], tuple(reversed(history[:-1]))) for history in facts.values() if history
        ),
        assessment=assessment,
        solution=solution,
        solution_given=solution_given,
        confirmation=confirmation,
        confirmation_public=confirmation_public,
        closure=closure,
    )


def raised_with_sections(model: ProcessModel | None, fields: Mapping[str, Any]) -> list[Section]:
    """What an incident was raised with, labelled by the version's start form."""
    form = task_form(model, model.start_task if model is not None else None)
    if form is None:
        return unlabelled({visibility.RAISED_WITH: fields})
    return sections(form[0], form[1], {visibility.RAISED_WITH: fields}, lambda *_: True)


def unlabelled(data: Mapping[str, Any]) -> list[Section]:
    """Answers of a form this code cannot read (a version it cannot parse): keys and values."""
    result = []
    for variable, value in data.items():
        if isinstance(value, Mapping):
            answers = tuple(answer((variable, key), None, None, v) for key, v in value.items() if v is not None)
            if answers:
                result.append(Section(variable, variable, answers))
        elif value is not None:
            result.append(Section(variable, "", (answer((variable,), None, None, value),)))
    return result


def requester_side(record: Record, requester_id: int | None) -> Record:
    """What the requester reads of the record: their own text, the solution, their confirmation —
    no facts, classification or closing notes, and a handler only by role (`name` None)."""

    def anonymous(who: Given | None) -> Given | None:
        if who is None or (requester_id is not None and who.user_id == requester_id):
            return who
        return replace(who, name=None, user_id=None)

    return Record(
        raised=anonymous(record.raised),
        raised_with=record.raised_with,
        raised_with_given=anonymous(record.raised_with_given),
        solution={key: record.solution[key] for key in ("kind", "text")} if record.solution else None,
        solution_given=anonymous(record.solution_given),
        confirmation=record.confirmation_public,
    )


def _raised_with(model: ProcessModel | None, fields: Mapping[str, Any]) -> Section | None:
    return _first(raised_with_sections(model, fields))


def _first(found: list[Section]) -> Section | None:
    return found[0] if found else None
