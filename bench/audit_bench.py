"""Audit-log benchmark: how long the whole hash chain takes to verify, as the auditor's pages do.

Run: `.venv/bin/python bench/audit_bench.py [--rows N] [--database URL]` (SQLite in a temporary
folder by default). Appends N rows shaped like a task completion, in batches as actions do, then
times `audit.verify` over the whole chain (best of three), then over 1,000 rows appended since,
as the audit pages do between two whole walks. Targets (docs/bench.md): 100,000 rows in under
3 s; the rows appended since in under 50 ms.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import audit, migrate
from app.audit import SYSTEM
from app.db import Database

BATCH = 1000
DATA = {
    "spec_id": "first_line_handling",
    "data": {"handling": {"outcome": "resolved", "solution_kind": "resolved", "solution": "重启计费接口进程"}},
    "changes": {"handling": {"before": None, "after": {"outcome": "resolved"}}},
}


def fill(db: Database, rows: int) -> None:
    start = datetime(2026, 3, 2, 1, tzinfo=UTC)
    for first in range(0, rows, BATCH):
        entries = [
            audit.Entry(kind="task_completed", actor=SYSTEM, at=start + timedelta(seconds=n), data=DATA,
                        task_id=f"task-{n}", task_name="一线处理")
            for n in range(first, min(first + BATCH, rows))
        ]  # fmt: skip
        with db.transaction() as session:
            audit.append_all(session, entries)


def run(rows: int, url: str) -> None:
    migrate.upgrade(url)
    db = Database(url)
    began = time.perf_counter()
    fill(db, rows)
    print(f"appended {rows:,} rows in {time.perf_counter() - began:.1f} s")
    timings = []
    for _ in range(3):
        with db.read() as session:
            began = time.perf_counter()
            result = audit.verify(session)
            timings.append(time.perf_counter() - began)
        assert result.ok, result
    best, checked = min(timings), result.checked  # the whole chain: a database's earlier rows too
    print(f"verify {checked:,} rows: {best * 1000:.0f} ms (best of 3), {checked / best:,.0f} rows/s")
    fill(db, BATCH)  # what the audit pages read between two whole walks: the rows appended since
    with db.read() as session:
        began = time.perf_counter()
        assert audit.verify(session, after=result).ok
        print(f"verify the {BATCH:,} rows appended since: {(time.perf_counter() - began) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(args.rows, args.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}")


if __name__ == "__main__":
    main()
