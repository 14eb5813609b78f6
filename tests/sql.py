"""Watching the SQL a block of code sends (how many reads and writes an action or a page costs)."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements():
    """Every SQL statement the block sends, in order, through any engine (the app has its own)."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        sent.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def touching(sent: list[str], verb: str, table: str) -> list[str]:
    # an UPDATE may be one of a batch's data-modifying CTEs (app/writes.py): WITH w0 AS (UPDATE …), …
    where = {"SELECT": rf"^SELECT .*\b(FROM|JOIN) {table}\b", "UPDATE": rf"(^|\bAS \()UPDATE {table}\b"}[verb]
    return [statement for statement in sent if re.search(where, statement, re.IGNORECASE)]
