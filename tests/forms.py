"""The form files in forms/, read as the server reads them (JSON Schema 2020-12 with its format checker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def name_of(path: Path) -> str:
    return path.name.removesuffix(".schema.json")


def schema_of(name: str) -> dict[str, Any]:
    return load(FORMS_DIR / f"{name}.schema.json")


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema_of(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
