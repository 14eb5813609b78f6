"""Concurrent actions add to the same day and month counters (the same type, level and day): the row
locks they take must come in one order whatever path writes them — inside an action's batched statement
or at commit on their own — or two actions deadlock and one of them fails (PostgreSQL; SQLite has one
writer at a time)."""

from __future__ import annotations

import threading

import pytest

from app import writes
from app.reports import counters

KEYS = [("registered", f"2026-11-{day:02d}", "fault", "yellow", "", 0, -1) for day in (3, 4)]


def _add(db, batched: bool, errors: list[BaseException], rounds: int) -> None:
    for _ in range(rounds):
        try:
            with db.transaction() as session:
                if batched:
                    with writes.batched(session):  # as at the end of an action's batch
                        counters.add_deltas(session, {key: (1, 0, 0, 0) for key in KEYS})
                else:  # as at commit, for an incident created in the transaction
                    counters.add_deltas(session, {key: (1, 0, 0, 0) for key in KEYS})
        except Exception as error:  # noqa: BLE001 — the test reports what went wrong
            errors.append(error)
            return


def test_batched_and_unbatched_counter_writes_do_not_deadlock(db):
    if not db.is_postgresql:
        pytest.skip("SQLite has one writer at a time")
    errors: list[BaseException] = []
    rounds = 60
    threads = [
        threading.Thread(target=_add, args=(db, batched, errors, rounds)) for batched in (True, False, True, False)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.read() as session:
        days = session.execute(counters.ReportDayCount.__table__.select()).all()
        months = session.execute(counters.ReportMonthCount.__table__.select()).all()
    assert sorted(row.n for row in days) == [4 * rounds, 4 * rounds]  # nothing lost
    assert [row.n for row in months] == [8 * rounds]
