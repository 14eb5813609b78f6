"""Form answers with their labels, read from the JSON Schema + UI schema of the form that asked them
(the version an incident runs on): what a step wrote, as the next person reads it.

Labels and choice names are the process's own (Chinese) texts, shown through the content catalog
in the reader's language; a label that is an English message id (`Message`) comes from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.messages import Message

TEXT, LONG_TEXT, CHOICE, YES_NO, NUMBER, TIME = "text", "long_text", "choice", "yes_no", "number", "time"


@dataclass(frozen=True)
class Answer:
    path: str  # "handling.notes"
    label: str | Message  # the field's title (process content), or a message of the code
    value: Any  # as stored
    kind: str = TEXT
    names: tuple[str, ...] = ()  # the chosen choices' names (process content), for a CHOICE


@dataclass(frozen=True)
class Section:
    """The answers one form variable got (a fieldset of the form: 处理结果, 事件信息…)."""

    variable: str
    title: str
    answers: tuple[Answer, ...]


def field_schema(schema: Mapping[str, Any] | None, path: tuple[str, ...]) -> Mapping[str, Any] | None:
    node: Any = schema
    for key in path:
        node = (node.get("properties") or {}).get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else None


def answer(path: tuple[str, ...], prop: Mapping[str, Any] | None, ui: Mapping[str, Any] | None, value: Any) -> Answer:
    """One answer with its label and the names of the chosen choices; a field the form does not
    describe is shown with its key."""
    prop, ui = prop or {}, ui or {}
    label = prop.get("title") or path[-1]
    choices = prop.get("items") if prop.get("type") == "array" else prop
    if isinstance(choices, Mapping) and "enum" in choices:
        names = dict(zip(choices["enum"], choices.get("enumNames") or choices["enum"], strict=False))
        chosen = value if isinstance(value, list) else [value]
        return Answer(".".join(path), label, value, CHOICE, tuple(str(names.get(item, item)) for item in chosen))
    if isinstance(value, bool):
        return Answer(".".join(path), label, value, YES_NO)
    if isinstance(value, int | float):
        return Answer(".".join(path), label, value, NUMBER)
    if prop.get("format") == "date-time":
        return Answer(".".join(path), label, value, TIME)
    return Answer(".".join(path), label, value, LONG_TEXT if ui.get("ui:widget") == "textarea" else TEXT)


def says_something(prop: Mapping[str, Any] | None, value: Any) -> bool:
    """An empty field, or one left at its default (an unticked box, 后续跟踪 "无"), says nothing."""
    if value is None or value == "" or value == []:
        return False
    return not (prop is not None and "default" in prop and prop["default"] == value)


Keep = Callable[[str, Mapping[str, Any], Any], bool]  # (variable, variable's UI, field's UI) → shown?


def sections(schema: Mapping[str, Any], ui: Mapping[str, Any], data: Mapping[str, Any], keep: Keep) -> list[Section]:
    """The answers a form got, in the form's order, one section per variable; fields that say
    nothing, and those `keep` refuses, are left out (and a section left empty with them)."""
    result = []
    for variable in _ordered(schema, ui):
        value = data.get(variable)
        prop = (schema.get("properties") or {}).get(variable) or {}
        variable_ui = ui.get(variable) if isinstance(ui.get(variable), Mapping) else {}
        if prop.get("type") != "object" or not isinstance(value, Mapping):
            if keep(variable, variable_ui, variable_ui) and says_something(prop, value):
                result.append(Section(variable, "", (answer((variable,), prop, variable_ui, value),)))
            continue
        answers = tuple(
            answer((variable, name), field, variable_ui.get(name), value[name])
            for name in _ordered(prop, variable_ui)
            if name in value
            and says_something(field := (prop.get("properties") or {}).get(name), value[name])
            and keep(variable, variable_ui, variable_ui.get(name))
        )
        if answers:
            result.append(Section(variable, prop.get("title") or variable, answers))
    return result


def _ordered(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> list[str]:
    names = list(schema.get("properties") or {})
    order = [name for name in ui.get("ui:order", []) if name in names]
    return order + [name for name in names if name not in order]
