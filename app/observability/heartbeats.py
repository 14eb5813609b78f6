"""Workers say they are alive: each writes its own row of `worker_heartbeats` after every good sweep.

/readyz and /metrics read the newest beat of each kind of worker ("timer", and "notify" from
`flask --app wsgi notify run`; /readyz waits only for the timer worker).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import WorkerHeartbeat, utcnow

FORGET_AFTER = timedelta(days=1)  # rows of workers gone this long are removed


def worker_name(kind: str) -> str:
    return f"{kind}@{socket.gethostname()}:{os.getpid()}"


@dataclass
class Heartbeat:
    """Called by a worker after each good sweep."""

    db: Database
    kind: str
    name: str = ""
    started_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        self.name = self.name or worker_name(self.kind)

    def __call__(self) -> None:
        now = utcnow()
        with self.db.transaction() as session:
            row = session.get(WorkerHeartbeat, self.name)
            if row is None:
                row = WorkerHeartbeat(name=self.name, kind=self.kind, started_at=self.started_at)
                session.add(row)
            row.beat_at = now
            session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER))


def last_beats(session: Session) -> dict[str, datetime]:
    query = select(WorkerHeartbeat.kind, func.max(WorkerHeartbeat.beat_at)).group_by(WorkerHeartbeat.kind)
    return dict(session.execute(query).all())
