"""The append-only audit log: one keyed hash chain per incident, and a few for everything else.

Each row's `hash` is an HMAC-SHA256, under a key kept outside the database (`AUDIT_HMAC_KEY`), of
its own content, its chain and position, and the previous row's hash in the same chain. Whoever
can write to the database but does not hold the key cannot forge a row, re-chain a table, or
append to a chain; tail deletion is caught by the checkpoints written outside the database
(`app.audit.checkpoints`). Writers of one chain queue on a per-chain lock (an advisory lock on
PostgreSQL; SQLite has one writer anyway), so actions on different incidents never wait for each
other here. The design and its threat model: docs/security.md, "Audit log integrity".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, event, func, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from app import writes
from app.audit.chain import GENESIS, HASHED_FIELDS, canonical_json, chain_of, incident_chain, lock_key, mac
from app.models import AuditEvent

__all__ = ["GENESIS", "LOCKED_HEAD", "RESERVED_IDS", "SYSTEM", "Actor", "Entry", "HeadRead", "append", "append_all",
           "canonical_json", "data_of", "events_of", "head_reads", "hold_head", "incident_chain", "keep_head_reads",
           "locked_head_params", "on_append", "read_with_head"]  # fmt: skip

# The request (or job) whose actions are being audited: set by the web layer per request, carried
# into every row so a row can be matched to the request's log lines.
request_id: ContextVar[str | None] = ContextVar("audit_request_id", default=None)


@dataclass(frozen=True)
class Actor:
    """Who did something: a person (with the roles they acted in) or the system."""

    user_id: int | None
    name: str
    roles: frozenset[str]

    @property
    def role_label(self) -> str:
        return ",".join(sorted(self.roles))


SYSTEM = Actor(None, "system", frozenset({"system"}))


@dataclass(frozen=True)
class Entry:
    """One row to append (see `append_all`)."""

    kind: str
    actor: Actor
    at: datetime
    data: Mapping[str, Any]
    incident_id: int | None = None
    task_id: str | None = None
    task_name: str | None = None


class NoAuditKey(RuntimeError):
    pass


def audit_key(session: Session) -> bytes:
    """The HMAC key the session's database was opened with (`Database(audit_key=…)`)."""
    key = session.info.get("audit_key")
    if not key:
        raise NoAuditKey("no audit key: open the database with Database(url, audit_key=…)")
    return key


def append(session: Session, **fields: Any) -> AuditEvent:
    return append_all(session, [Entry(**fields)])[0]


# Who else writes rows for each new audit row, in the same transaction (search documents, report
# roll-ups): they register here when imported, and are called with the rows once they have their ids.
_followers: list[Callable[[Session, list[AuditEvent]], None]] = []


def on_append(follower: Callable[[Session, list[AuditEvent]], None]) -> Callable[[Session, list[AuditEvent]], None]:
    _followers.append(follower)
    return follower


# One INSERT for a batch, ids returned in the order given (the timeline reads rows by id), through
# Core: the rows are never read back in this transaction, so the ORM's unit of work would only cost.
_TABLE = AuditEvent.__table__
_INSERT = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
# PostgreSQL: the chain's advisory lock and its head in one round trip (migration 0026 says why a function).
_LOCKED_HEAD = text("SELECT seq, hash FROM audit_locked_head(:space, :key, :chain)")
# … the same as a table to join into a statement of one's own (an action reads its open tasks with it):
# its read still comes after the lock, in the function, and so do the ids it takes for the rows the
# transaction will append to the chain (migration 0040); hand what it gives to `hold_head`.
LOCKED_HEAD = (
    func.audit_locked_head(bindparam("space"), bindparam("key"), bindparam("chain"), bindparam("reserve"))
    .table_valued("seq", "hash", "ids")
    .alias("head")
)
# Ids taken with the head: an action appends one to four rows to its incident's chain (five at times:
# those past the fourth get theirs from an INSERT of their own); the ones it does not use stay unused.
RESERVED_IDS = 4
# SQLite: every write transaction already holds the database's one write lock (BEGIN IMMEDIATE).
_HEAD = (
    select(AuditEvent.seq, AuditEvent.hash)
    .where(AuditEvent.chain == bindparam("chain"))
    .order_by(AuditEvent.seq.desc())
    .limit(1)
)


def append_all(session: Session, entries: list[Entry]) -> list[AuditEvent]:
    """Append rows in order, each to the end of its chain; each chain is locked once, in name order
    (so two writers touching the same chains never deadlock). Returns the rows written (not in the
    session: nothing reads them back through it)."""
    if not entries:
        return []
    key = audit_key(session)
    session.flush()  # what the action changed goes first: the rows below are written past the ORM
    chains = [chain_of(entry.incident_id, entry.kind) for entry in entries]
    heads = session.info.setdefault(_HEADS, {})
    for chain in sorted(set(chains) - heads.keys()):
        heads[chain] = _locked_head(session, chain)
    rows = []
    request = request_id.get()
    for entry, chain in zip(entries, chains, strict=True):
        seq, previous = heads[chain]
        row = {
            "chain": chain,
            "seq": seq + 1,
            "prev_hash": previous,
            "incident_id": entry.incident_id,
            "at": entry.at,
            "actor_id": entry.actor.user_id,
            "actor_name": entry.actor.name,
            "actor_role": entry.actor.role_label,
            "kind": entry.kind,
            "task_id": entry.task_id,
            "task_name": entry.task_name,
            "data": canonical_json(entry.data),
            "request_id": request,
        }
        row["hash"] = mac(key, [row[name] for name in HASHED_FIELDS])
        heads[chain] = (row["seq"], row["hash"])
        rows.append(row)
    _write(session, rows, chains)
    events = [AuditEvent(**row) for row in rows]
    session.info.setdefault("audited_kinds", []).extend(entry.kind for entry in entries)  # counted once committed
    for follower in _followers:
        follower(session, events)
    return events


# What followers read of an incident with its chain's lock and head, where an action reads the head in a
# statement of its own (`LOCKED_HEAD`, joined into the read of its open tasks): each registers columns on
# the incident's id (`bindparam("incident_id")`) and what to do with their values — one round trip fewer
# than each reading for itself after the append. The read comes after the lock: it sees what the lock's
# previous holder committed.
Keeper = Callable[[Session, int, tuple[Any, ...]], None]  # (session, incident id, the columns' values)


@dataclass(frozen=True, eq=False)
class HeadRead:
    columns: tuple[ColumnElement[Any], ...]
    keep: Keeper


_head_reads: list[HeadRead] = []


def read_with_head(columns: tuple[ColumnElement[Any], ...], keep: Keeper) -> None:
    _head_reads.append(HeadRead(columns, keep))


def head_reads() -> tuple[HeadRead, ...]:
    return tuple(_head_reads)


def keep_head_reads(session: Session, incident_id: int, reads: tuple[HeadRead, ...], values: tuple[Any, ...]) -> None:
    """Hand each of `reads` its columns' `values` (all the reads' columns, in their order)."""
    start = 0
    for read in reads:
        read.keep(session, incident_id, values[start : start + len(read.columns)])
        start += len(read.columns)


# In a session's `info`: chain → (seq, hash) of the chains this transaction holds locked, as its own
# appends left them: no other writer can append to them before it ends, so they are not read again.
_HEADS = "audit_heads"


# … and chain → the ids taken with its head and not used yet, in rising order.
_RESERVED = "audit_reserved_ids"


def locked_head_params(chain: str) -> dict[str, Any]:
    """The parameters of `LOCKED_HEAD` for `chain`."""
    return {**lock_key(chain), "chain": chain, "reserve": RESERVED_IDS}


def hold_head(session: Session, chain: str, seq: int | None, hash_: str | None, ids: list[int]) -> None:
    """What `LOCKED_HEAD` gave for `chain` (seq and hash None: an empty chain), for this transaction's appends."""
    session.info.setdefault(_HEADS, {})[chain] = (seq, hash_) if seq is not None else (0, GENESIS)
    session.info.setdefault(_RESERVED, {})[chain] = sorted(ids)


def _write(session: Session, rows: list[dict[str, Any]], chains: list[str]) -> None:
    """Give each row its id and write it: a row of a chain with ids reserved takes the next one and goes
    with the transaction's other writes (app.writes: batched in an action); the others are inserted at
    once, the database giving their ids (higher than any reserved before: they still rise along a chain)."""
    reserved = session.info.get(_RESERVED, {})
    for row, chain in zip(rows, chains, strict=True):
        if free := reserved.get(chain):
            row["id"] = free.pop(0)
    if known := [row for row in rows if "id" in row]:
        writes.insert_rows(session, _TABLE, known)
    if unknown := [row for row in rows if "id" not in row]:
        ids = session.connection().execute(_INSERT, unknown).scalars().all()
        for row, row_id in zip(unknown, ids, strict=True):
            row["id"] = row_id


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: SessionTransaction) -> None:
    """The locks end with the transaction; a savepoint's end may have undone rows (a flush's own
    subtransaction changes nothing)."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEADS, None)
        session.info.pop(_RESERVED, None)


def _locked_head(session: Session, chain: str) -> tuple[int, str]:
    """The chain's last position and hash, with the chain locked until the transaction ends."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        last = connection.execute(_LOCKED_HEAD, locked_head_params(chain)).first()
    else:
        last = connection.execute(_HEAD, {"chain": chain}).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


def events_of(session: Session, incident_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.incident_id == incident_id).order_by(AuditEvent.id))
    )


def data_of(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.data)
