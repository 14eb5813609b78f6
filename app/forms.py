"""Validating submitted task data against a form's JSON Schema (forms/*.schema.json).

The same schema drives the rendered form and the server-side check. After validation every
property the schema declares is present (missing optional ones become null), so gateway
conditions and service parameters can rely on the shape of the data.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app.messages import N_, Message

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
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors: dict[str, Message] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        for path in _paths(error):
            errors.setdefault(path, _message(error))
    if errors:
        raise FormErrors(errors)
    return fill_missing(schema, data)


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
