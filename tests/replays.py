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
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.db import Base, Database
from tests import databases, seeds

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
        rows, at = seeds.table_rows(connection, Base.metadata.sorted_tables), seeds.sequences(connection)
    _REPLAYS[key] = _State(rows, at, clock.time_to_freeze, copy.deepcopy(result))
    return result


def _fingerprint(connection: Connection, time: datetime) -> str:
    """Every row of every table, where the sequences stand (PostgreSQL), and the clock."""
    digest = hashlib.sha256(repr(time).encode())
    for name, found in seeds.table_rows(connection, Base.metadata.sorted_tables).items():
        digest.update(repr((name, found)).encode())
    digest.update(repr(sorted(seeds.sequences(connection).items())).encode())
    return digest.hexdigest()


def _restore(connection: Connection, state: _State) -> None:
    """Every table emptied, then the state's rows, in one transaction. On PostgreSQL the emptying sets
    `session_replication_role = replica` for the transaction: the rows go in without firing triggers."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(databases.EMPTY_POSTGRESQL))
    else:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    seeds.insert_rows(connection, state.rows)
    if state.sequences:
        connection.execute(seeds.set_sequences(state.sequences))
