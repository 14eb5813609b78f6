"""The append-only audit log and its hash chain.

Every row's hash covers its own content and the previous row's hash, so editing, deleting or
inserting a row anywhere breaks the chain from that row on. Appends lock the chain head
(`audit_head`) for the rest of the transaction, so concurrent writers never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.messages import N_, Message
from app.models import AuditEvent, AuditHead

GENESIS = "0" * 64


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


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
# What a row's hash covers, in this order (its own `hash` aside).
HASHED_COLUMNS = (
    AuditEvent.id,
    AuditEvent.prev_hash,
    AuditEvent.incident_id,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.actor_name,
    AuditEvent.actor_role,
    AuditEvent.kind,
    AuditEvent.task_id,
    AuditEvent.task_name,
    AuditEvent.data,
)


def canonical_json(data: Any) -> str:
    return _CANONICAL.encode(data)


def row_hash(event: AuditEvent) -> str:
    return _content_hash(tuple(getattr(event, column.key) for column in HASHED_COLUMNS))


def _content_hash(values: tuple[Any, ...]) -> str:
    """SHA-256 of the hashed columns' values as canonical JSON (`at` in ISO 8601)."""
    listed = list(values)
    listed[3] = listed[3].isoformat()
    return hashlib.sha256(_CANONICAL.encode(listed).encode()).hexdigest()


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


def append(session: Session, **fields: Any) -> AuditEvent:
    return append_all(session, [Entry(**fields)])[0]


def append_all(session: Session, entries: list[Entry]) -> list[AuditEvent]:
    """Append rows in order, chaining each to the one before; the head is locked once."""
    head = _locked_head(session)
    events = []
    for entry in entries:
        event = AuditEvent(
            id=head.last_id + 1,
            incident_id=entry.incident_id,
            at=entry.at,
            actor_id=entry.actor.user_id,
            actor_name=entry.actor.name,
            actor_role=entry.actor.role_label,
            kind=entry.kind,
            task_id=entry.task_id,
            task_name=entry.task_name,
            data=canonical_json(entry.data),
            prev_hash=head.last_hash,
        )
        event.hash = row_hash(event)
        session.add(event)
        head.last_id, head.last_hash = event.id, event.hash
        events.append(event)
    session.flush()
    return events


def _locked_head(session: Session) -> AuditHead:
    query = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.execute(query).scalar_one_or_none()
    if head is None:  # first event ever: create the head, whoever else is trying to at the same time
        dialect_insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        create = dialect_insert(AuditHead).values(id=1, last_id=0, last_hash=GENESIS)
        session.execute(create.on_conflict_do_nothing(index_elements=["id"]))
        head = session.execute(query).scalar_one()
    return head


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int  # rows that verify, from the first one on
    broken_at: int | None = None  # id of the first row that does not verify
    problem: Message | None = None
    last_hash: str = GENESIS  # the hash of the last row that verifies

    @property
    def reason(self) -> str | None:
        return None if self.problem is None else str(self.problem)


def verify(session: Session, after: Verification | None = None) -> Verification:
    """Walk the chain; report the first row whose hash, link or position is wrong.

    With `after` (an earlier, intact result) only its last row and the rows appended since are
    read: quick, but an edit of an earlier row goes unseen until the next whole walk.
    """
    if after is None or not after.ok or not after.checked:
        return _walk(session, _rows(session, from_id=1), GENESIS, 0)
    rows = _rows(session, from_id=after.checked)
    last = next(rows, None)
    unchanged = last is not None and last[0] == after.checked and last[-1] == after.last_hash
    if not unchanged or _content_hash(last[:-1]) != after.last_hash:
        return verify(session)  # what was verified has changed since: a whole walk says where
    return _walk(session, rows, after.last_hash, after.checked)


def _walk(session: Session, rows: Iterator[tuple[Any, ...]], previous_hash: str, checked: int) -> Verification:
    expected_id = checked + 1
    for *values, stored_hash in rows:
        row_id, prev_hash = values[0], values[1]
        if row_id != expected_id:
            return Verification(False, checked, expected_id, Message(N_("row %(id)s is missing"), {"id": expected_id}))
        if prev_hash != previous_hash:
            return Verification(False, checked, row_id, Message(N_("its link to the previous row does not match")))
        if _content_hash(values) != stored_hash:
            return Verification(False, checked, row_id, Message(N_("its content does not match its hash")))
        previous_hash, expected_id, checked = stored_hash, expected_id + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_id, head.last_hash) != (expected_id - 1, previous_hash):
        missing = Message(N_("rows from %(id)s on are missing"), {"id": expected_id})
        return Verification(False, checked, expected_id, missing)
    return Verification(True, checked, last_hash=previous_hash)


def _rows(session: Session, from_id: int) -> Iterator[tuple[Any, ...]]:
    """The hashed values and stored hash of every row from `from_id` on, as plain tuples (no ORM
    objects: a whole walk of the log reads every row)."""
    query = select(*HASHED_COLUMNS, AuditEvent.hash).where(AuditEvent.id >= from_id).order_by(AuditEvent.id)
    yield from session.connection().execute(query.execution_options(yield_per=5000))


def events_of(session: Session, incident_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.incident_id == incident_id).order_by(AuditEvent.id))
    )


def data_of(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.data)
