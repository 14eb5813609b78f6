"""What nearly every test starts from (the published process, one account per role), written by the real
code once per test process and database, then copied in: tests/conftest.py's `service` and `actors`.

Publishing the bundled diagram and creating eleven accounts took ~0.1 s per test (more under load), and
the suite's ~1800 tests each did it. A `Seed` runs the real code the first time, on an empty database,
and keeps the rows it wrote and where it left the sequences; each later test on an equally empty
database gets those rows inserted and the sequences set, which is what the real code would have left.
When the database is not in that state (an earlier fixture wrote something, or the clock is elsewhere)
the real code runs, as before.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, TextClause, func, select, text
from sqlalchemy.engine import Connection

from app.db import Base, Database

KEPT_PER_SEED = 4  # snapshots per seed and database (one per clock reading the seed was written at)

# PostgreSQL: each sequence of the schema, the table that owns it (NULL: none), and its last value (NULL:
# it gave out nothing since it was last set back, as after each test: tests/databases.EMPTY_POSTGRESQL).
SEQUENCES = text(
    """
    SELECT s.sequencename AS name, owner.relname AS owner, s.last_value FROM pg_sequences s
    JOIN pg_class seq ON seq.relname = s.sequencename AND seq.relnamespace = s.schemaname::regnamespace
    LEFT JOIN pg_depend dep ON dep.objid = seq.oid AND dep.classid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
    LEFT JOIN pg_class owner ON owner.oid = dep.refobjid
    WHERE s.schemaname = current_schema()
    """
)


Rows = dict[str, list[dict[str, Any]]]  # table → its rows


def table_rows(connection: Connection, tables: list[Table]) -> Rows:
    """The rows of those of `tables` that have any, each table's in the order of its primary key."""
    rows = {}
    for table in tables:
        found = [dict(row) for row in connection.execute(select(table).order_by(*table.primary_key)).mappings()]
        if found:
            rows[table.name] = found
    return rows


def insert_rows(connection: Connection, rows: Rows, fresh: dict[str, Callable[[], Any]] | None = None) -> None:
    """`rows` inserted, parents before children; `fresh` ("table.column" → a value maker) set anew in each."""
    fresh = fresh or {}
    for table in Base.metadata.sorted_tables:
        if rows.get(table.name):
            again = {column.split(".")[1]: value() for column, value in fresh.items()
                     if column.split(".")[0] == table.name}  # fmt: skip
            connection.execute(table.insert(), [{**row, **again} for row in rows[table.name]])


def sequences(connection: Connection, other_tables: frozenset[str] = frozenset()) -> dict[str, int]:
    """PostgreSQL: the sequences (but those of `other_tables`) that gave out a value since they were last set
    back, with their last value. SQLite has none: a new row's id follows the largest."""
    if connection.dialect.name != "postgresql":
        return {}
    found = connection.execute(SEQUENCES)
    return {row.name: row.last_value for row in found if row.last_value is not None and row.owner not in other_tables}


def set_sequences(sequences: dict[str, int]) -> TextClause:
    """The statement that puts each sequence where `sequences` says (PostgreSQL)."""
    return text("SELECT " + ", ".join(f"setval('{name}', {value}, true)" for name, value in sequences.items()))


@dataclass
class _Snapshot:
    rows: Rows  # the rows the seed wrote
    sequences: dict[str, int]  # sequence → its last value after the seed (PostgreSQL)
    result: Any

    @functools.cached_property
    def set_sequences(self) -> TextClause:
        return set_sequences(self.sequences)


@dataclass
class Seed:
    """`write(db)`, copied in once it has run for real. It is copied only into a database where every table
    but `other_tables` is empty (and, on PostgreSQL, their sequences are at their start), as it was when it
    ran. `fresh` columns are set again at each copy, as the code's defaults would (`users.created_at`: the
    clock's time when the fixture runs); `key()` tells apart writes whose rows differ (the frozen clock's time
    is in the audit log's hashes)."""

    write: Callable[[Database], Any]
    other_tables: frozenset[str] = frozenset()
    fresh: dict[str, Callable[[], Any]] = field(default_factory=dict)  # "table.column" → its value at each copy
    key: Callable[[], Hashable] = lambda: None
    _snapshots: dict[tuple[str, Hashable], _Snapshot | None] = field(default_factory=dict)
    _queries: dict[str, TextClause] = field(default_factory=dict)

    def __call__(self, db: Database) -> Any:
        key = (db.url, self.key())
        with db.engine.begin() as connection:
            empty = connection.scalar(self._empty_query(connection.dialect.name))
            snapshot = self._snapshots.get(key)
            if snapshot is not None and empty:
                self._copy(connection, snapshot)
                return copy.copy(snapshot.result)
        recorded = sum(known[0] == db.url for known in self._snapshots)
        if not empty or key in self._snapshots or recorded >= KEPT_PER_SEED:
            return self.write(db)
        return self._record(db, key)

    def _watched(self) -> list[Table]:
        return [table for table in Base.metadata.sorted_tables if table.name not in self.other_tables]

    def _empty_query(self, dialect: str) -> TextClause:
        """One query: whether no watched table has a row and, on PostgreSQL, no watched table's sequence
        gave out a value since it was last set back (a test that wrote rows and deleted them left it further)."""
        if dialect not in self._queries:
            self._queries[dialect] = self._build_empty_query(dialect)
        return self._queries[dialect]

    def _build_empty_query(self, dialect: str) -> TextClause:
        rows = " OR ".join(f"EXISTS (SELECT 1 FROM {table.name})" for table in self._watched())
        if dialect != "postgresql":
            return text(f"SELECT NOT ({rows})")
        others = ", ".join(f"'{name}'" for name in sorted(self.other_tables)) or "''"
        used = f"SELECT 1 FROM ({SEQUENCES.text}) used WHERE last_value IS NOT NULL AND owner NOT IN ({others})"
        return text(f"SELECT NOT ({rows}) AND NOT EXISTS ({used})")

    def _record(self, db: Database, key) -> Any:
        with db.engine.connect() as connection:
            others = _counts(connection, self.other_tables)
        result = self.write(db)
        with db.engine.connect() as connection:
            if _counts(connection, self.other_tables) != others:
                self._snapshots[key] = None  # it wrote where it should not: always run for real
                return result
            rows = table_rows(connection, self._watched())
            self._snapshots[key] = _Snapshot(rows, sequences(connection, self.other_tables), result)
        return result

    def _copy(self, connection: Connection, snapshot: _Snapshot) -> None:
        insert_rows(connection, snapshot.rows, self.fresh)
        if snapshot.sequences:
            connection.execute(snapshot.set_sequences)


def _counts(connection: Connection, names: frozenset[str]) -> list[int]:
    tables = [table for table in Base.metadata.sorted_tables if table.name in names]
    return [connection.scalar(select(func.count()).select_from(table)) for table in tables]
