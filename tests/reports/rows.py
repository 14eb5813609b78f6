"""Building audit rows by hand for the pure-function tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from app.reports.events import AuditRow

T = datetime(2026, 3, 2, 1, tzinfo=UTC)


class Trail:
    """Audit rows of incidents in chain order: `trail.add(1, 0.5, "dispatched", stage="first_line")`."""

    def __init__(self):
        self.rows: list[AuditRow] = []
        self._ids = count(1)

    def add(self, incident_id: int, hours: float, kind: str, **values) -> AuditRow:
        row = AuditRow(next(self._ids), incident_id, T + timedelta(hours=hours), kind, **values)
        self.rows.append(row)
        return row
