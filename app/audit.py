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


def canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(event: AuditEvent) -> str:
    content = canonical_json(
        [
            event.id,
            event.prev_hash,
            event.incident_id,
            event.at.isoformat(),
            event.actor_id,
            event.actor_name,
            event.actor_role,
            event.kind,
            event.task_id,
            event.task_name,
            event.data,
        ]
    )
    return hashlib.sha256(content.encode()).hexdigest()


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
    checked: int
    broken_at: int | None = None  # id of the first row that does not verify
    problem: Message | None = None

    @property
    def reason(self) -> str | None:
        return None if self.problem is None else str(self.problem)


def verify(session: Session) -> Verification:
    """Walk the whole chain; report the first row whose hash, link or position is wrong."""
    previous_hash, expected_id, checked = GENESIS, 1, 0
    for event in _all_events(session):
        if event.id != expected_id:
            return Verification(False, checked, expected_id, Message(N_("row %(id)s is missing"), {"id": expected_id}))
        if event.prev_hash != previous_hash:
            return Verification(False, checked, event.id, Message(N_("its link to the previous row does not match")))
        if row_hash(event) != event.hash:
            return Verification(False, checked, event.id, Message(N_("its content does not match its hash")))
        previous_hash, expected_id, checked = event.hash, expected_id + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_id, head.last_hash) != (expected_id - 1, previous_hash):
        missing = Message(N_("rows from %(id)s on are missing"), {"id": expected_id})
        return Verification(False, checked, expected_id, missing)
    return Verification(True, checked)


def _all_events(session: Session) -> Iterator[AuditEvent]:
    yield from session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000))


def events_of(session: Session, incident_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.incident_id == incident_id).order_by(AuditEvent.id))
    )


def data_of(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.data)
