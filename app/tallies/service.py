"""Counting the incidents (the timer worker's job) and reading the last count (the overview, the process
owner's versions)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import Session

from app.db import Database
from app.incidents.projection import ACTIVE_STATUSES, OPEN
from app.models import Incident, ProcessVersion, utcnow
from app.tallies.models import IncidentTally, VersionTally


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


@dataclass(frozen=True)
class RunningTally:
    counted_at: datetime
    by_version: Mapping[int, int]  # running incidents by process version id, for every version published by then


# Every version, 0 included: the page tells a version counted with none running from one published since.
RUNNING_BY_VERSION = (
    select(ProcessVersion.id, func.count(Incident.id))
    .outerjoin(Incident, and_(Incident.process_version_id == ProcessVersion.id, Incident.status.in_(ACTIVE_STATUSES)))
    .group_by(ProcessVersion.id)
)


def count(db: Database) -> Tally:
    """Count every incident by status, type and level, and the running incidents of each process version, now,
    in place of the counts before (a count of the same moment too: the tests' clock stands still). Two workers
    counting at once leave two counts; the pages read the later one, and the next count removes both."""
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
        running = session.execute(RUNNING_BY_VERSION).all()
        session.execute(delete(VersionTally).where(VersionTally.counted_at <= at))
        if running:  # none before the first publication
            values = [{"counted_at": at, "process_version_id": version, "n": n} for version, n in running]
            session.execute(insert(VersionTally), values)
    return Tally(at, rows)


def latest(session: Session) -> Tally | None:
    """The last count, or None before the first."""
    at = session.scalar(select(func.max(IncidentTally.counted_at)))
    if at is None:
        return None
    query = select(IncidentTally.status, IncidentTally.type, IncidentTally.level, IncidentTally.n)
    return Tally(at, tuple(tuple(row) for row in session.execute(query.where(IncidentTally.counted_at == at))))


def running(session: Session) -> RunningTally | None:
    """The running incidents of each version at the last count, or None before the first."""
    at = session.scalar(select(func.max(VersionTally.counted_at)))
    if at is None:
        return None
    query = select(VersionTally.process_version_id, VersionTally.n).where(VersionTally.counted_at == at)
    return RunningTally(at, dict(session.execute(query).all()))


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
