"""The data a file's tests share (incidents taken through many steps, under a clock moved by hours), built by
the real code for the first test of each process and database, then copied into the database of the others.

Some fixtures take tens of actions to build their incidents, and each test of their file built them again:
in tests/web/test_reports_pages.py, test_paging.py and test_audit_pages.py that was about a quarter of
tests/web's time. `replayed(db, clock, build)` runs `build()` for real the first time and keeps every row of
every table, where the sequences stood and where the clock ended; a later test whose database and clock are
exactly as they were then (every row compared) gets those rows, those sequences and that time, and a copy of
what `build()` returned. Anything else runs `build()` for real. Only for builders that write nothing but
rows (no files, no mail) and keep nothing in memory but what they return.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from freezegun.api import FrozenDateTimeFactory
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from app.db import Base, Database
from tests import databases
from tests.seeds import SEQUENCES

T = TypeVar("T")


@dataclass
class _State:
    rows: dict[str, list[dict[str, Any]]]
    sequences: dict[str, int]
    time: datetime
    result: Any


_REPLAYS: dict[tuple[str, Any, str], _State] = {}  # (database, builder's code, state before) → state after


def replayed(db: Database, clock: FrozenDateTimeFactory, build: Callable[[], T]) -> T:
    with db.engine.connect() as connection:
        before = _fingerprint(connection, clock.time_to_freeze)
    key = (db.url, build.__code__, before)
    state = _REPLAYS.get(key)
    if state is not None:
        with db.engine.begin() as connection:
            _restore(connection, state)
        clock.move_to(state.time)
        return copy.deepcopy(state.result)
    result = build()
    with db.engine.connect() as connection:
        rows, sequences = _rows(connection), _sequences(connection)
    _REPLAYS[key] = _State(rows, sequences, clock.time_to_freeze, copy.deepcopy(result))
    return result


def _rows(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    rows = {}
    for table in Base.metadata.sorted_tables:
        found = [dict(row) for row in connection.execute(select(table).order_by(*table.primary_key)).mappings()]
        if found:
            rows[table.name] = found
    return rows


def _fingerprint(connection: Connection, time: datetime) -> str:
    """Every row of every table, where the sequences stand (PostgreSQL), and the clock."""
    digest = hashlib.sha256(repr(time).encode())
    for name, found in _rows(connection).items():
        digest.update(repr((name, found)).encode())
    digest.update(repr(sorted(_sequences(connection).items())).encode())
    return digest.hexdigest()


def _sequences(connection: Connection) -> dict[str, int]:
    """PostgreSQL: the sequences that gave out a value since they were last set back; SQLite has none."""
    if connection.dialect.name != "postgresql":
        return {}
    return {row.name: row.last_value for row in connection.execute(SEQUENCES) if row.last_value is not None}


def _restore(connection: Connection, state: _State) -> None:
    """Every table emptied, then the state's rows, in one transaction. On PostgreSQL the emptying sets
    `session_replication_role = replica` for the transaction: the rows go in without firing triggers."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(databases.EMPTY_POSTGRESQL))
    else:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    for table in Base.metadata.sorted_tables:  # parents before children
        if state.rows.get(table.name):
            connection.execute(table.insert(), state.rows[table.name])
    if state.sequences:
        values = ", ".join(f"setval('{name}', {value}, true)" for name, value in state.sequences.items())
        connection.execute(text(f"SELECT {values}"))
