"""Where an incident's engine state is stored: one row of `incident_states` per incident.

The text is SpiffWorkflow's serialization without the process spec (app/engine/runtime.py),
compressed with zlib. It is kept byte for byte: the serializer stores task data as deltas whose
restoring depends on key order, so a JSON column that reorders keys (JSONB) would lose data.
Compressed, an action writes a few KB instead of tens (docs/bench.md has the figures).
"""

from __future__ import annotations

import zlib

from sqlalchemy.orm import Session

from app import writes
from app.engine.runtime import SERIALIZER_VERSION
from app.models import IncidentState

# Level 1: most of the size gain (the text is repetitive JSON) for a fraction of the time of level 6.
LEVEL = 1


def encode(text: str) -> bytes:
    return zlib.compress(text.encode(), LEVEL)


def decode(data: bytes) -> str:
    return zlib.decompress(data).decode()


def read(session: Session, incident_id: int) -> IncidentState:
    """The stored state (one SELECT by primary key); write back to the same row with `write`."""
    row = session.get(IncidentState, incident_id)
    if row is None:
        raise LookupError(f"incident {incident_id} has no engine state")
    return row


def text_of(session: Session, incident_id: int) -> str:
    return decode(read(session, incident_id).state)


_TABLE = IncidentState.__table__


def write(session: Session, incident_id: int, text: str, *, new: bool) -> None:
    """Store `text` as the incident's state: an UPDATE of its row, or an INSERT for a new incident.
    Past the ORM, with the action's other writes when they are batched (app.writes): nothing reads
    the state back in the action's transaction."""
    values = {"state": encode(text), "serializer_version": SERIALIZER_VERSION}
    if new:
        writes.insert_rows(session, _TABLE, [{"incident_id": incident_id, **values}])
    else:
        writes.update_row(session, _TABLE, {"incident_id": incident_id}, values)
