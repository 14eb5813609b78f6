"""Writes an action sends without reading them back: batched into one round trip on PostgreSQL.

An action writes rows that nothing reads again before its commit: its engine state, search texts,
report roll-ups, notifications. Inside `batched(session)` they are held back and sent together when
the block ends: on PostgreSQL as one statement (each write a data-modifying CTE; PostgreSQL runs
every one of them once, referenced or not), elsewhere one by one. Outside a block each is sent at once.

On PostgreSQL the batch is SQL text built here, not a SQLAlchemy expression: a statement with a
varying number of rows (a multi-row VALUES) is not cacheable, and compiling it on every action cost
more CPU than the round trips it saved. Rows go in as one array per column (`unnest`), so the text
depends only on the tables and columns written and is built once per shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

_BATCH = "write_batch"  # in a session's `info`: the writes held back until the block ends


@dataclass(frozen=True)
class _Insert:
    table: Table
    rows: Sequence[Mapping[str, Any]]  # every row with the same keys
    skip_conflicts_on: tuple[str, ...] = ()  # ON CONFLICT (these columns) DO NOTHING …
    summed: tuple[str, ...] = ()  # … or DO UPDATE: these columns += the row's


@dataclass(frozen=True)
class _Update:
    table: Table
    key: Mapping[str, Any]  # WHERE column = value AND …
    values: Mapping[str, Any]


@dataclass(frozen=True)
class _Upsert:
    table: Table
    key: Mapping[str, Any]  # the row's primary key
    values: Mapping[str, Any]  # INSERT the row, or UPDATE these columns of the one there


_Write = _Insert | _Update | _Upsert
_last_writers: list[Callable[[Session], None]] = []


def at_batch_end(hook: Callable[[Session], None]) -> Callable[[Session], None]:
    """Call `hook` at the end of every batch, before it is sent: the writes it makes join the batch
    (the per-day report counters, worked out from everything the action changed)."""
    _last_writers.append(hook)
    return hook


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Hold back the writes of `insert_rows` / `update_row` inside the block, send them at its end.
    Only for rows nothing in the block reads back. A block inside another joins the outer one."""
    if _BATCH in session.info:
        yield
        return
    batch: list[_Write] = []
    session.info[_BATCH] = batch
    try:
        yield
        for hook in _last_writers:
            hook(session)
    finally:
        del session.info[_BATCH]  # after an error the transaction is rolled back: nothing to send
    _send(session.connection(), batch)


def insert_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, skip_conflicts_on: tuple[str, ...] = ()
) -> None:
    """INSERT `rows` (all with the same keys) into `table`; with `skip_conflicts_on`, a row whose
    value of those (unique) columns exists already is left out."""
    if rows:
        _add(session, _Insert(table, rows, skip_conflicts_on))


def update_row(session: Session, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """UPDATE `table` SET `values` WHERE every column of `key` has its value (one row, by its key)."""
    _add(session, _Update(table, key, values))


def add_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, key: tuple[str, ...], summed: tuple[str, ...]
) -> None:
    """INSERT `rows` (all with the same keys, no two with the same `key`); where a row with that `key`
    exists already, add the row's `summed` columns to it instead."""
    if rows:
        _add(session, _Insert(table, rows, key, summed))


def upsert_row(session: Session, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """INSERT the row with `key` and `values`, or UPDATE `values` where the row with that key exists.
    In a batch it replaces an upsert of the same row held back before (one statement cannot write a
    row twice)."""
    _add(session, _Upsert(table, key, values))


def _add(session: Session, write: _Write) -> None:
    batch = session.info.get(_BATCH)
    if batch is None:
        _send(session.connection(), [write])
        return
    if isinstance(write, _Upsert):
        batch[:] = [held for held in batch if not (isinstance(held, _Upsert) and held.table is write.table
                                                   and held.key == write.key)]  # fmt: skip
    batch.append(write)


def _send(connection: Connection, writes: list[_Write]) -> None:
    if not writes:
        return
    if connection.dialect.name != "postgresql":
        for write in writes:
            _execute_core(connection, write)
        return
    parts, params = [], {}
    for number, write in enumerate(writes):
        prefix = f"w{number}_"
        parts.append(_sql(connection.dialect, write, prefix))
        params.update(_params(connection.dialect, write, prefix))
    if len(parts) == 1:
        connection.exec_driver_sql(parts[0], params)
    else:
        ctes = ", ".join(f"w{number} AS ({sql})" for number, sql in enumerate(parts))
        connection.exec_driver_sql(f"WITH {ctes} SELECT 1", params)


def _execute_core(connection: Connection, write: _Write) -> None:
    """One write as a (cached) SQLAlchemy Core statement: an executemany for several rows."""
    table = write.table
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    if isinstance(write, _Upsert):
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(write.key), set_={name: statement.excluded[name] for name in write.values}
        )
        connection.execute(statement, {**write.key, **write.values})
    elif isinstance(write, _Update):
        where = and_(*(table.c[name] == value for name, value in write.key.items()))
        connection.execute(update(table).where(where).values(dict(write.values)))
    elif write.summed:
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(write.skip_conflicts_on),
            set_={name: table.c[name] + statement.excluded[name] for name in write.summed},
        )
        connection.execute(statement, [dict(row) for row in write.rows])
    elif write.skip_conflicts_on:
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=list(write.skip_conflicts_on))
        connection.execute(statement, [dict(row) for row in write.rows])
    else:
        connection.execute(insert(table), [dict(row) for row in write.rows])


def _shape(write: _Write) -> tuple:
    if isinstance(write, _Upsert):
        return ("upsert", write.table.name, tuple(write.key), tuple(write.values))
    if isinstance(write, _Update):
        return ("update", write.table.name, tuple(write.key), tuple(write.values))
    return ("insert", write.table.name, tuple(write.rows[0]), write.skip_conflicts_on, write.summed)


def _sql(dialect: Dialect, write: _Write, prefix: str) -> str:
    return _template(dialect, write.table, _shape(write)).replace("%(", f"%({prefix}")


@functools.cache
def _template(dialect: Dialect, table: Table, shape: tuple) -> str:
    """The statement's text for this shape (parameters named after the columns), built once."""
    quote = dialect.identifier_preparer.quote
    kind, name, first, second, *summed = shape
    typed = {column: table.c[column].type.compile(dialect=dialect) for column in (*first, *second)}
    if kind == "update":
        sets = ", ".join(f"{quote(column)} = %(v_{column})s::{typed[column]}" for column in second)
        where = " AND ".join(f"{quote(column)} = %(k_{column})s::{typed[column]}" for column in first)
        return f"UPDATE {quote(name)} SET {sets} WHERE {where}"
    if kind == "upsert":
        columns = ", ".join(quote(column) for column in (*first, *second))
        values = ", ".join(
            [f"%(k_{column})s::{typed[column]}" for column in first]
            + [f"%(v_{column})s::{typed[column]}" for column in second]
        )
        sets = ", ".join(f"{quote(column)} = EXCLUDED.{quote(column)}" for column in second)
        keys = ", ".join(quote(column) for column in first)
        return f"INSERT INTO {quote(name)} ({columns}) VALUES ({values}) ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    columns = ", ".join(quote(column) for column in first)
    arrays = ", ".join(f"%(a_{column})s::{typed[column]}[]" for column in first)
    sql = f"INSERT INTO {quote(name)} ({columns}) SELECT * FROM unnest({arrays})"
    if second:
        sql += f" ON CONFLICT ({', '.join(quote(column) for column in second)})"
        adds = ", ".join(
            f"{quote(column)} = {quote(name)}.{quote(column)} + EXCLUDED.{quote(column)}" for column in summed[0]
        )
        sql += f" DO UPDATE SET {adds}" if adds else " DO NOTHING"
    return sql


def _params(dialect: Dialect, write: _Write, prefix: str) -> dict[str, Any]:
    """The values as the driver takes them: each column type's own conversion applied (as SQLAlchemy
    would), an insert's rows as one list per column."""
    table = write.table
    if isinstance(write, _Update | _Upsert):
        params = {f"{prefix}k_{name}": _bind(dialect, table, name, value) for name, value in write.key.items()}
        params.update({f"{prefix}v_{name}": _bind(dialect, table, name, value) for name, value in write.values.items()})
        return params
    return {
        f"{prefix}a_{name}": [_bind(dialect, table, name, row[name]) for row in write.rows] for name in write.rows[0]
    }


def _bind(dialect: Dialect, table: Table, name: str, value: Any) -> Any:
    processor = _processor(dialect, table, name)
    return processor(value) if processor is not None and value is not None else value


@functools.cache
def _processor(dialect: Dialect, table: Table, name: str) -> Any:
    return table.c[name].type.bind_processor(dialect)
