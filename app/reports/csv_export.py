"""Report rows → CSV text that Excel opens correctly (UTF-8 with BOM, so Chinese is not garbled).

Header: the dataclass field names (English keys). Values: None → empty, booleans → true/false,
datetimes → ISO 8601 (UTC as stored), everything else → str(). A text cell that starts with
=, +, -, @, tab or carriage return gets a leading apostrophe, so Excel never runs it as a formula
(titles are typed by users: CSV injection).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    return str(value)


def to_csv(rows: Iterable[Any], row_type: type | None = None) -> str:
    """CSV text (with BOM) of dataclass rows; give `row_type` so that no rows still yields the header."""
    rows = list(rows)
    kind = row_type or (type(rows[0]) if rows else None)
    if kind is None or not dataclasses.is_dataclass(kind):
        raise TypeError("to_csv needs dataclass rows (pass row_type when there may be none)")
    names = [field.name for field in dataclasses.fields(kind)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        if not isinstance(row, kind):
            raise TypeError(f"all rows must be {kind.__name__}, got {type(row).__name__}")
        writer.writerow([cell(getattr(row, name)) for name in names])
    return BOM + out.getvalue()


def to_csv_bytes(rows: Iterable[Any], row_type: type | None = None) -> bytes:
    """As `to_csv`, encoded (UTF-8, the BOM first): the body of a download."""
    return to_csv(rows, row_type).encode("utf-8")
