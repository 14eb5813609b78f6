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

from sqlalchemy import bindparam, event, func, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from app.audit.chain import GENESIS, HASHED_FIELDS, canonical_json, chain_of, incident_chain, lock_key, mac
from app.models import AuditEvent

__all__ = ["GENESIS", "LOCKED_HEAD", "SYSTEM", "Actor", "Entry", "append", "append_all", "canonical_json", "data_of",
           "events_of", "hold_head", "incident_chain", "locked_head_params", "on_append"]  # fmt: skip

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
_INSERT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id, sort_by_parameter_order=True)
# PostgreSQL: the chain's advisory lock and its head in one round trip (migration 0026 says why a function).
_LOCKED_HEAD = text("SELECT seq, hash FROM audit_locked_head(:space, :key, :chain)")
# … the same as a table to join into a statement of one's own (an action reads its open tasks with it):
# its read still comes after the lock, in the function; hand what it gives to `hold_head`.
LOCKED_HEAD = (
    func.audit_locked_head(bindparam("space"), bindparam("key"), bindparam("chain"))
    .table_valued("seq", "hash")
    .alias("head")
)
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
    ids = session.connection().execute(_INSERT, rows).scalars().all()
    events = [AuditEvent(id=row_id, **row) for row_id, row in zip(ids, rows, strict=True)]
    session.info.setdefault("audited_kinds", []).extend(entry.kind for entry in entries)  # counted once committed
    for follower in _followers:
        follower(session, events)
    return events


# In a session's `info`: chain → (seq, hash) of the chains this transaction holds locked, as its own
# appends left them: no other writer can append to them before it ends, so they are not read again.
_HEADS = "audit_heads"


def locked_head_params(chain: str) -> dict[str, Any]:
    """The parameters of `LOCKED_HEAD` for `chain`."""
    return {**lock_key(chain), "chain": chain}


def hold_head(session: Session, chain: str, seq: int | None, hash_: str | None) -> None:
    """The head `LOCKED_HEAD` gave for `chain` (None, None: an empty chain), for this transaction's appends."""
    session.info.setdefault(_HEADS, {})[chain] = (seq, hash_) if seq is not None else (0, GENESIS)


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: SessionTransaction) -> None:
    """The locks end with the transaction; a savepoint's end may have undone rows (a flush's own
    subtransaction changes nothing)."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEADS, None)


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
