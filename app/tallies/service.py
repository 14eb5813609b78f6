"""Counting the incidents (the timer worker's job) and reading the last count (the overview)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.db import Database
from app.incidents.projection import OPEN
from app.models import Incident, utcnow
from app.tallies.models import IncidentTally


@dataclass(frozen=True)
class Tally:
    counted_at: datetime
    rows: tuple[tuple[str, str | None, str | None, int], ...]  # status, type, level, how many

    @property
    def by_status(self) -> dict[str, int]:
        return self._sum(0)

    @property
    def open_by_type(self) -> dict[str | None, int]:
        return self._sum(1, OPEN)

    @property
    def open_by_level(self) -> dict[str | None, int]:
        return self._sum(2, OPEN)

    def _sum(self, column: int, status: str | None = None) -> dict:
        total: Counter = Counter()
        for row in self.rows:
            if status is None or row[0] == status:
                total[row[column]] += row[3]
        return dict(total)


def count(db: Database) -> Tally:
    """Count every incident by status, type and level now, in place of the counts before (a count of the
    same moment too: the tests' clock stands still). Two workers counting at once leave two counts; the
    pages read the later one, and the next count removes both."""
    with db.transaction() as session:
        at = utcnow()
        query = select(Incident.status, Incident.type, Incident.level, func.count()).group_by(
            Incident.status, Incident.type, Incident.level
        )
        rows = tuple(tuple(row) for row in session.execute(query)) or ((OPEN, None, None, 0),)  # none: a count
        session.execute(delete(IncidentTally).where(IncidentTally.counted_at <= at))
        keys = ("status", "type", "level", "n")
        values = [{"counted_at": at, **dict(zip(keys, row, strict=True))} for row in rows]
        session.execute(insert(IncidentTally), values)
    return Tally(at, rows)


def latest(session: Session) -> Tally | None:
    """The last count, or None before the first."""
    at = session.scalar(select(func.max(IncidentTally.counted_at)))
    if at is None:
        return None
    query = select(IncidentTally.status, IncidentTally.type, IncidentTally.level, IncidentTally.n)
    return Tally(at, tuple(tuple(row) for row in session.execute(query.where(IncidentTally.counted_at == at))))


@dataclass
class PeriodicTally:
    """Called after every timer sweep; counts when the last count is `every_seconds` old or more."""

    db: Database
    every_seconds: float

    def __call__(self) -> None:
        with self.db.read() as session:
            last = session.scalar(select(func.max(IncidentTally.counted_at)))
        if last is None or utcnow() - last >= timedelta(seconds=self.every_seconds):
            count(self.db)
