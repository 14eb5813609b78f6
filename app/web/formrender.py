"""Task forms from JSON Schema + UI schema (the react-jsonschema-form conventions SpiffWorkflow's
tooling uses): the fields the Jinja macros draw, and submitted form data read back into JSON.

The same schema then validates the data on the server (`app.forms.validate`); what the user typed
is always redisplayed, valid or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from app.messages import Message
from app.web.timefmt import parse_local, zone

LONG_CHOICE = 4  # more options than this: a select instead of radio buttons


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass
class Field:
    path: str
    title: str
    widget: str  # text textarea select radio checkbox checkboxes number datetime hidden
    required: bool = False
    value: Any = None
    options: list[Option] = field(default_factory=list)
    help: str | None = None
    placeholder: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    step: str | None = None
    error: Message | None = None
    show_when: list[tuple[str, str]] = field(default_factory=list)  # shown if any (field, value) holds
    current: str | None = None  # the value the incident has now, beside a field that changes it

    def selected(self, option: Option) -> bool:
        values = self.value if isinstance(self.value, list) else [self.value]
        return option.value in (_as_text(value) for value in values)


@dataclass
class Fieldset:
    path: str
    title: str
    fields: list[Field]
    error: Message | None = None


def fieldsets(
    schema: Mapping[str, Any],
    ui: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    errors: Mapping[str, Message] | None = None,
) -> list[Fieldset]:
    """The form's fieldsets: one per top-level object property (the form's data variables)."""
    data, errors = data or {}, errors or {}
    result = []
    for name in _ordered(schema, ui):
        prop = schema["properties"][name]
        if prop.get("type") == "object":
            fields = _fields(prop, ui.get(name, {}), data.get(name) or {}, errors, name)
            result.append(Fieldset(name, prop.get("title", name), fields, errors.get(name)))
        else:
            single = _field(name, prop, ui.get(name, {}), data.get(name), name in schema.get("required", ()), errors)
            result.append(Fieldset("", schema.get("title", ""), [single]))
    return result


def read_submission(schema: Mapping[str, Any], form: MultiDict) -> dict[str, Any]:
    """Submitted HTML form data as typed JSON; text that does not parse is kept for the validator to flag."""
    return _read_object(schema, form, "")


def _ordered(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> list[str]:
    names = list(schema.get("properties", {}))
    order = [name for name in ui.get("ui:order", []) if name in names]
    return order + [name for name in names if name not in order]


def _fields(
    schema: Mapping[str, Any], ui: Mapping[str, Any], data: Mapping[str, Any], errors: Mapping[str, Message], base: str
) -> list[Field]:
    conditions = _conditions(schema, base)
    required = set(schema.get("required", ()))
    fields = []
    for name in _ordered(schema, ui):
        path = f"{base}.{name}"
        item = _field(path, schema["properties"][name], ui.get(name, {}), data.get(name), name in required, errors)
        item.show_when = conditions.get(name, [])
        fields.append(item)
    return fields


def _field(
    path: str, prop: Mapping[str, Any], ui: Mapping[str, Any], value: Any, required: bool, errors: Mapping[str, Message]
) -> Field:
    widget = _widget(prop, ui)
    item = Field(
        path=path,
        title=prop.get("title", path.rsplit(".", 1)[-1]),
        widget=widget,
        required=required,
        value=_display(prop, value if value is not None else prop.get("default")),
        options=_options(prop),
        help=ui.get("ui:help"),
        placeholder=ui.get("ui:placeholder"),
        minimum=prop.get("minimum"),
        maximum=prop.get("maximum"),
        max_length=prop.get("maxLength"),
        step="1" if prop.get("type") == "integer" else "any" if prop.get("type") == "number" else None,
        error=errors.get(path),
    )
    return item


def _widget(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    requested = ui.get("ui:widget")
    kind = prop.get("type")
    if requested == "hidden":
        return "hidden"
    if kind == "array":
        return "checkboxes"
    if "enum" in prop:
        if requested in ("radio", "select"):
            return requested
        return "select" if len(prop["enum"]) > LONG_CHOICE else "radio"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if prop.get("format") == "date-time":
        return "datetime"
    return "textarea" if requested == "textarea" else "text"


def _options(prop: Mapping[str, Any]) -> list[Option]:
    source = prop.get("items", prop) if prop.get("type") == "array" else prop
    values = source.get("enum", [])
    labels = source.get("enumNames", [str(value) for value in values])
    return [Option(_as_text(value), label) for value, label in zip(values, labels, strict=False)]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _display(prop: Mapping[str, Any], value: Any) -> Any:
    if prop.get("format") == "date-time" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(zone()).strftime("%Y-%m-%dT%H:%M")
        except (ValueError, OverflowError):
            return value  # what the user typed, shown back as typed
    return value


def _conditions(schema: Mapping[str, Any], base: str) -> dict[str, list[tuple[str, str]]]:
    """Fields required only under a condition (`if` a sibling has a value `then` required) are shown only then."""
    shown: dict[str, list[tuple[str, str]]] = {}
    always = set(schema.get("required", ()))
    for rule in schema.get("allOf", []):
        condition = rule.get("if", {}).get("properties", {})
        then_required = rule.get("then", {}).get("required", [])
        for controller, test in condition.items():
            if "const" not in test:
                continue
            for name in then_required:
                if name not in always and name != controller:
                    shown.setdefault(name, []).append((f"{base}.{controller}", _as_text(test["const"])))
    return shown


def _read_object(schema: Mapping[str, Any], form: MultiDict, base: str) -> dict[str, Any]:
    result = {}
    for name, prop in schema.get("properties", {}).items():
        path = f"{base}.{name}" if base else name
        if prop.get("type") == "object":
            value = _read_object(prop, form, path)
            if value:
                result[name] = value
            continue
        value = _read_value(prop, form, path)
        if value is not None:
            result[name] = value
    return result


def _read_value(prop: Mapping[str, Any], form: MultiDict, path: str) -> Any:
    kind = prop.get("type")
    if kind == "array":
        values = [value for value in form.getlist(path) if value]
        return values or None
    if kind == "boolean":
        raw = form.get(path)
        if "enum" not in prop:  # a checkbox: absent means unchecked
            return raw in ("on", "true", "1")
        return {"true": True, "false": False}.get(raw or "")
    raw = (form.get(path) or "").strip()
    if not raw:
        return None
    if kind in ("integer", "number"):
        try:
            number = float(raw)
        except ValueError:
            return raw
        if kind == "integer" or number.is_integer() and "." not in raw:
            return int(number) if number.is_integer() else raw
        return number
    if prop.get("format") == "date-time":
        try:
            return parse_local(raw).isoformat()
        except ValueError:
            return raw
    return raw
