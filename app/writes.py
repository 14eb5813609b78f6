"""Writes an action sends without reading them back: batched into one round trip on PostgreSQL.

An action writes rows that nothing reads again before its commit: its engine state, search texts,
report roll-ups, notifications. Inside `batched(session)` they are held back and sent together when
the block ends: on PostgreSQL as one statement (each write a data-modifying CTE; PostgreSQL runs
every one of them once, referenced or not), elsewhere one by one. Outside a block each is sent at once.

On PostgreSQL the batch is SQL text built here, not a SQLAlchemy expression: a statement with a
varying number of rows (a multi-row VALUES) is not cacheable, and compiling it on every action cost
more CPU than the round trips it saved. An insert's rows go in as one JSON parameter
(`json_populate_recordset`), so the text depends only on the tables and columns written, is built
once per shape, and has few enough parameters for psycopg to keep its parsed form (it parses again
every query of more than 50 parameters or 4,096 characters; one array per column went over both).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, and_, delete, insert, inspect, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session, make_transient_to_detached

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


@dataclass(frozen=True)
class _Delete:
    table: Table
    column: str
    values: Sequence[Any]  # DELETE … WHERE column IN (values)


_Write = _Insert | _Update | _Upsert | _Delete
_last_writers: list[Callable[[Session], None]] = []
_object_watchers: list[Callable[[Session, Any], None]] = []


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


def delete_rows(session: Session, table: Table, column: str, values: Sequence[Any]) -> None:
    """DELETE the rows of `table` whose `column` is one of `values`."""
    if values:
        _add(session, _Delete(table, column, tuple(values)))


def before_object_written(hook: Callable[[Session, Any], None]) -> Callable[[Session, Any], None]:
    """Call `hook(session, obj)` before the changes of an ORM object are written past the session's
    flush (`write_objects`): what a before_flush listener would have seen of it, history and all."""
    _object_watchers.append(hook)
    return hook


def write_objects(session: Session, changed: Sequence[Any], new: Sequence[Any], gone: Sequence[Any]) -> None:
    """Write ORM objects of one class past the session's flush, which then finds nothing to write for
    them: UPDATE the columns of the `changed` objects that changed since they were loaded (with the
    version counter), INSERT the `new` ones (every column), DELETE the `gone` ones. Columns only: a
    relationship is written by the foreign-key column its object sets. Only for rows nothing in the
    block reads back from the database (the objects stay readable, held by the session as written)."""
    for obj in changed:
        _update_object(session, obj)
    if new:
        mapper = inspect(new[0]).mapper
        rows = [{prop.columns[0].name: getattr(obj, prop.key) for prop in mapper.column_attrs} for obj in new]
        insert_rows(session, mapper.local_table, rows)
        for obj in new:  # as if loaded from the database
            session.expunge(obj)
            make_transient_to_detached(obj)
            session.add(obj)
    if gone:
        mapper = inspect(gone[0]).mapper
        (key,) = mapper.primary_key
        delete_rows(session, mapper.local_table, key.name, [inspect(obj).identity[0] for obj in gone])
        for obj in gone:
            session.expunge(obj)


def _update_object(session: Session, obj: Any) -> None:
    state = inspect(obj)
    mapper, columns = state.mapper, state.mapper.column_attrs
    props = [columns[key] for key in state.committed_state if key in columns and state.attrs[key].history.has_changes()]
    if props:
        for hook in _object_watchers:
            hook(session, obj)
        if mapper.version_id_col is not None:
            version = mapper.get_property_by_column(mapper.version_id_col)
            setattr(obj, version.key, getattr(obj, version.key) + 1)
            props.append(version)
        values = {prop.columns[0].name: getattr(obj, prop.key) for prop in props}
        key = dict(zip((column.name for column in mapper.primary_key), state.identity, strict=True))
        update_row(session, mapper.local_table, key, values)
    # Held as written, relationships too (what a flush does after writing): no public call does this
    # for a persistent object. `set_committed_value` for each changed attribute leaves it "modified", and
    # the next flush works through it for nothing (~0.6 ms of CPU for an incident against 0.03, measured
    # 2026-12-01); expunging it and making it transient and detached again expires what was not loaded
    # (its raiseload'ed process version would load instead of raising) and cascades to its open tasks.
    state._commit_all(state.dict, session.identity_map)


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
    if isinstance(write, _Delete):
        connection.execute(delete(table).where(table.c[write.column].in_(write.values)))
    elif isinstance(write, _Upsert):
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
    if isinstance(write, _Delete):
        return ("delete", write.table.name, (write.column,), ())
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
    if kind == "delete":
        (column,) = first
        return f"DELETE FROM {quote(name)} WHERE {quote(column)} = ANY(%(k_{column})s::{typed[column]}[])"
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
    rows = f"json_populate_recordset(NULL::{quote(name)}, %(rows)s::json)"
    sql = f"INSERT INTO {quote(name)} ({columns}) SELECT {columns} FROM {rows}"
    if second:
        sql += f" ON CONFLICT ({', '.join(quote(column) for column in second)})"
        adds = ", ".join(
            f"{quote(column)} = {quote(name)}.{quote(column)} + EXCLUDED.{quote(column)}" for column in summed[0]
        )
        sql += f" DO UPDATE SET {adds}" if adds else " DO NOTHING"
    return sql


def _params(dialect: Dialect, write: _Write, prefix: str) -> dict[str, Any]:
    """The values as the driver takes them: each column type's own conversion applied (as SQLAlchemy
    would), an insert's rows as one JSON array of objects."""
    table = write.table
    if isinstance(write, _Delete):
        return {f"{prefix}k_{write.column}": [_bind(dialect, table, write.column, value) for value in write.values]}
    if isinstance(write, _Update | _Upsert):
        params = {f"{prefix}k_{name}": _bind(dialect, table, name, value) for name, value in write.key.items()}
        params.update({f"{prefix}v_{name}": _bind(dialect, table, name, value) for name, value in write.values.items()})
        return params
    names = list(write.rows[0])
    rows = [{name: _json_value(dialect, table, name, row[name]) for name in names} for row in write.rows]
    return {f"{prefix}rows": _JSON.encode(rows)}


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json_value(dialect: Dialect, table: Table, name: str, value: Any) -> Any:
    """A value as json_populate_recordset reads it into its column: bytes as bytea's hex text, times
    (after their column type's conversion) as ISO 8601."""
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    value = _bind(dialect, table, name, value)
    return value.isoformat() if isinstance(value, date) else value  # a datetime is a date too


def _bind(dialect: Dialect, table: Table, name: str, value: Any) -> Any:
    processor = _processor(dialect, table, name)
    return processor(value) if processor is not None and value is not None else value


@functools.cache
def _processor(dialect: Dialect, table: Table, name: str) -> Any:
    return table.c[name].type.bind_processor(dialect)
