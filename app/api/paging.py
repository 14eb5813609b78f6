"""Cursor pagination of the API's lists (keyset: a page continues after the last row of the one
before, so rows added meanwhile neither repeat nor shift a page). A cursor is the sort key of that
last row, as URL-safe base64 JSON; the client passes it back untouched."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from app.api import problems
from app.messages import N_, Message


def encode(key: Sequence[Any]) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode(text: str, kinds: Sequence[type]) -> list[Any]:
    """The sort key in a cursor, each value of its kind (`datetime` aware, `int`, `str`; None where the
    column may be empty); a cursor this API did not give out is a 422 on the `cursor` field."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        return [_value(value, kind) for value, kind in zip(values, kinds, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise problems.invalid({"cursor": Message(N_("This cursor is not one this API gave out."))}) from None


def _value(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
        return moment
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError
    return value


def after(columns: Sequence[Any], key: Sequence[Any], descending: bool = False) -> Any:
    """Rows that sort after `key` on `columns` (all ascending or all descending; no empty values)."""
    column, value = columns[0], key[0]
    beyond = column < value if descending else column > value
    if len(columns) == 1:
        return beyond
    return or_(beyond, and_(column == value, after(columns[1:], key[1:], descending)))


def page(session: Session, statement: Select, limit: int, key_of) -> tuple[list[Any], str | None]:
    """One page of `statement` (already ordered and cut after the cursor), and the next cursor."""
    rows = list(session.scalars(statement.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode(key_of(rows[-1])) if more else None
