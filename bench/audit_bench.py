"""Audit-log benchmark: how long the whole check of the audit log takes (the timer worker's job), and
the check of one incident's chain (what an auditor's history page does).

Run: `.venv/bin/python bench/audit_bench.py [--rows N] [--database URL]` (SQLite in a temporary
folder by default). Appends N rows shaped like a task completion, in batches as actions do, then
times the whole check (every HMAC and link; best of three), the whole check with a checkpoint
written, and the check of one 20-row chain. Targets (docs/bench.md): 100,000 rows in under 3 s;
one incident's chain in under 20 ms.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import audit, migrate
from app.audit import SYSTEM
from app.audit.jobs import check_and_seal
from app.audit.verification import check_chain, verify
from app.db import Database

BATCH = 1000
DATA = {
    "spec_id": "first_line_handling",
    "data": {"handling": {"outcome": "resolved", "solution_kind": "resolved", "solution": "重启计费接口进程"}},
    "changes": {"handling": {"before": None, "after": {"outcome": "resolved"}}},
}


def fill(db: Database, rows: int, kind: str = "task_completed") -> None:
    start = datetime(2026, 3, 2, 1, tzinfo=UTC)
    for first in range(0, rows, BATCH):
        entries = [
            audit.Entry(kind=kind, actor=SYSTEM, at=start + timedelta(seconds=n), data=DATA,
                        task_id=f"task-{n}", task_name="一线处理")
            for n in range(first, min(first + BATCH, rows))
        ]  # fmt: skip
        with db.transaction() as session:
            audit.append_all(session, entries)


def best_of_three(action):
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - began)
    return min(timings), result


def run(rows: int, url: str, folder: Path) -> None:
    migrate.upgrade(url)
    db = Database(url, audit_key=b"bench-key")
    began = time.perf_counter()
    fill(db, rows)
    fill(db, 20, kind="version_published")  # a short chain of its own, as long as an incident's
    print(f"appended {rows + 20:,} rows in {time.perf_counter() - began:.1f} s")

    def whole():
        with db.read() as session:
            return verify(session, b"bench-key")

    best, result = best_of_three(whole)
    assert result.ok, result
    print(f"whole check of {result.rows:,} rows: {best * 1000:.0f} ms (best of 3), {result.rows / best:,.0f} rows/s")
    best, (result, sealed) = best_of_three(lambda: check_and_seal(db, folder))
    assert result.ok and sealed is not None
    print(f"whole check + checkpoint + stored result: {best * 1000:.0f} ms (best of 3)")

    def one_chain():
        with db.read() as session:
            return check_chain(session, b"bench-key", "process")

    best, problem = best_of_three(one_chain)
    assert problem is None
    print(f"one chain of 20 rows (an incident's history page): {best * 1000:.1f} ms (best of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(args.rows, args.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}", Path(folder) / "checkpoints")


if __name__ == "__main__":
    main()
