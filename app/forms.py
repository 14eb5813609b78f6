"""Validating submitted task data against a form's JSON Schema (forms/*.schema.json).

The same schema drives the rendered form and the server-side check. After validation every
property the schema declares is present (missing optional ones become null), so gateway
conditions and service parameters can rely on the shape of the data.

A form schema is one self-contained document: a `$ref` may only point inside it ("#/$defs/…").
Validation never fetches or reads anything (REGISTRY refuses every retrieval), and publication
refuses a schema that refers outside itself (`outside_refs`). A text field stored in a sized column
(COLUMN_FIELDS) may not allow more characters than the column holds (`column_limit_problems`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.exceptions import Unresolvable, Unretrievable
from referencing.jsonschema import DRAFT202012

from app.messages import N_, Message
from app.models import Incident, ProblemTicket

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"

REQUIRED = N_("Required")
INVALID = N_("Invalid format")
MESSAGES = {
    "required": REQUIRED,
    "minLength": REQUIRED,
    "maxLength": N_("Too long (at most %(limit)s characters)"),
    "minimum": N_("Must not be less than %(limit)s"),
    "maximum": N_("Must not be more than %(limit)s"),
    "type": INVALID,
    "enum": N_("Choose one of the options"),
    "const": N_("Not possible together with the other choices made"),
    "format": INVALID,
    "minItems": N_("Choose at least %(limit)s"),
    "additionalProperties": N_("Unknown field"),
}


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # dates outside are typing mistakes

# Form fields (as the bundled process names them) whose text is also kept in a sized column: the
# column is the one source of the limit, and a form may not allow more (checked at publication).
COLUMN_FIELDS = {
    "incident.title": (Incident.title,),
    "incident.system": (Incident.system,),
    "incident.contact": (Incident.requester_name,),
    "incident.ops_ticket": (Incident.ops_ticket,),
    "handling.change_reference": (Incident.change_reference,),
    "closure.follow_up_title": (Incident.title, ProblemTicket.title),  # the follow-up incident, the problem ticket
}


def _refuse_retrieval(uri: str):
    raise Unretrievable(ref=uri)  # nothing outside the form itself: no network, no file


REGISTRY: Registry = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]
FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
_RFC3339 = FORMAT_CHECKER.checkers["date-time"][0]


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339, and a day between FIRST_DAY and LAST_DAY (year 1 or 9999 would overflow in time zones)."""
    if not isinstance(value, str):
        return True
    return bool(_RFC3339(value)) and FIRST_DAY <= datetime.fromisoformat(value).date() <= LAST_DAY


class FormErrors(ValueError):
    """Field errors keyed by dotted path ("handling.solution"); "" for the form as a whole."""

    def __init__(self, errors: dict[str, Message]):
        self.errors = errors
        super().__init__("; ".join(f"{path or 'form'}: {message}" for path, message in errors.items()))


def read_form_files(directory: Path = FORMS_DIR) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.json"))}


@cache
def event_form(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema, UI schema) of a form the application itself owns — the payloads of the events it
    throws into an instance (`update_facts`, `forward_tracking`) — read once per process."""
    return tuple(
        json.loads((FORMS_DIR / f"{name}.{kind}.json").read_text(encoding="utf-8")) for kind in ("schema", "uischema")
    )


def validate(schema: Mapping[str, Any], data: Any) -> dict[str, Any]:
    """The normalized data, or FormErrors naming each offending field (null counts as not given)."""
    if not isinstance(data, Mapping):
        raise FormErrors({"": Message(N_("The form data must be an object"))})
    data = _without_nulls(data)
    validator = Draft202012Validator(schema, registry=REGISTRY, format_checker=FORMAT_CHECKER)
    errors: dict[str, Message] = {}
    try:
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            for path in _paths(error):
                errors.setdefault(path, _message(error))
    except Unresolvable as error:  # a schema stored before publication refused such references
        errors = {"": Message(N_("This form refers to %(ref)s, which is not part of it."), {"ref": _ref_of(error)})}
    if errors:
        raise FormErrors(errors)
    return fill_missing(schema, data)


def reference_and_limit_problems(schema: Mapping[str, Any]) -> list[Message]:
    """What else keeps a valid JSON Schema from being a form: references outside it or to nothing in it,
    and text fields longer than their column."""
    outside = outside_refs(schema)
    text = N_('it refers to %(ref)s outside the form: only references within the form ("#/$defs/…") are allowed')
    problems = [Message(text, {"ref": ref}) for ref in outside]
    if not outside:
        text = N_("it refers to %(ref)s, which is not in the form")
        problems += [Message(text, {"ref": ref}) for ref in unresolvable_refs(schema)]
    return problems + column_limit_problems(schema)


def outside_refs(schema: Any) -> list[str]:
    """Every `$ref` / `$dynamicRef` of a schema that does not point inside it ("#…")."""
    return [ref for ref in _refs(schema) if not ref.startswith("#")]


def unresolvable_refs(schema: Mapping[str, Any]) -> list[str]:
    """The in-document references that point at nothing (from the document's root)."""
    resolver = REGISTRY.resolver_with_root(DRAFT202012.create_resource(schema))
    missing = []
    for ref in _refs(schema):
        if ref.startswith("#"):
            try:
                resolver.lookup(ref)
            except Unresolvable:
                missing.append(ref)
    return missing


def _refs(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop(0)
        if isinstance(item, Mapping):
            for key, child in item.items():
                if key in ("$ref", "$dynamicRef") and isinstance(child, str):
                    yield child
                else:
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def _ref_of(error: Unresolvable) -> str:
    return str(getattr(error, "ref", "") or error)


def column_limit_problems(schema: Mapping[str, Any]) -> list[Message]:
    """Each text field kept in a column (COLUMN_FIELDS) that allows more characters than the column holds."""
    problems = []
    for path, columns in COLUMN_FIELDS.items():
        prop: Any = schema
        for name in path.split("."):
            prop = prop.get("properties", {}).get(name) if isinstance(prop, Mapping) else None
        if not isinstance(prop, Mapping) or prop.get("type") != "string" or "enum" in prop:
            continue
        limit = min(column.type.length for column in columns)
        allowed = prop.get("maxLength")
        if not isinstance(allowed, int) or allowed > limit:
            text = N_("field %(field)s may hold at most %(limit)s characters (the column it is stored in): "
                      'set "maxLength" to %(limit)s or less')  # fmt: skip
            problems.append(Message(text, {"field": path, "limit": limit}))
    return problems


def _without_nulls(data: Mapping[str, Any]) -> dict[str, Any]:
    """null means "not given", as an omitted field would."""
    return {
        key: _without_nulls(value) if isinstance(value, Mapping) else value
        for key, value in data.items()
        if value is not None
    }


def fill_missing(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of data with every declared but absent property set to null (recursively)."""
    result = copy.deepcopy(dict(data))
    for name, prop in schema.get("properties", {}).items():
        if name not in result:
            result[name] = None
        elif prop.get("type") == "object" and isinstance(result[name], Mapping):
            result[name] = fill_missing(prop, result[name])
    return result


def _paths(error: ValidationError) -> list[str]:
    base = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, Mapping) else {}
        return [_join(base, name) for name in error.validator_value if name not in present]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = error.schema.get("properties", {})
        return [_join(base, name) for name in error.instance if name not in known]
    return [base]


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def _message(error: ValidationError) -> Message:
    text = MESSAGES.get(str(error.validator), INVALID)
    return Message(text, {"limit": error.validator_value} if "%(limit)s" in text else {})
