"""Validating submitted task data against a form's JSON Schema (forms/*.schema.json).

The same schema drives the rendered form and the server-side check. After validation every
property the schema declares is present (missing optional ones become null), so gateway
conditions and service parameters can rely on the shape of the data.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"

MESSAGES = {
    "required": "必填",
    "minLength": "必填",
    "maxLength": "内容过长（最多 {limit} 个字符）",
    "minimum": "不能小于 {limit}",
    "maximum": "不能大于 {limit}",
    "type": "格式不正确",
    "enum": "请选择一个有效的选项",
    "const": "与其他选择不一致",
    "format": "格式不正确",
    "minItems": "至少选择 {limit} 项",
    "additionalProperties": "包含未知字段",
}


class FormErrors(ValueError):
    """Field errors keyed by dotted path ("handling.solution"); "" for the form as a whole."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{path or 'form'}: {message}" for path, message in errors.items()))


def read_form_files(directory: Path = FORMS_DIR) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.json"))}


def validate(schema: Mapping[str, Any], data: Any) -> dict[str, Any]:
    """The normalized data, or FormErrors naming each offending field (null counts as not given)."""
    if not isinstance(data, Mapping):
        raise FormErrors({"": "表单数据必须是一个对象"})
    data = _without_nulls(data)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors: dict[str, str] = {}
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


def _message(error: ValidationError) -> str:
    template = MESSAGES.get(str(error.validator), "格式不正确")
    return template.format(limit=error.validator_value)
