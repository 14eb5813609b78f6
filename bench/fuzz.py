"""Fuzz the web app for longer than the suite does (tests/fuzzing.py; tests/web/test_fuzz.py runs 1,200
requests per database).

Run: `.venv/bin/python bench/fuzz.py [--requests N] [--seed S] [--database URL]` (SQLite in a temporary
folder by default; a PostgreSQL database named here is emptied first). Prints how each route answered
(status counts), every request that failed on the server, and what the integrity check found; exits 1
if anything did. A finding is reproduced by running again with the same seed and number of requests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: the app is the checkout

from freezegun import freeze_time  # noqa: E402
from freezegun.api import real_perf_counter  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from app import create_app, migrate  # noqa: E402
from app.db import Database, normalize_url  # noqa: E402
from app.incidents.service import IncidentService  # noqa: E402
from tests.conftest import T0  # noqa: E402
from tests.fuzzing import FAST_HASH, Fuzzer, check_integrity, populate  # noqa: E402

# freezegun swaps module attributes that are the real clock functions; kept in a tuple, the stopwatch runs.
STOPWATCH = (real_perf_counter,)


def fresh(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(normalize_url(url))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)


def run(requests: int, seed: int, url: str) -> int:
    fresh(url)
    db = Database(url)
    with freeze_time(T0):
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "fuzz", "TESTING": True, "PASSWORD_HASH_METHOD": FAST_HASH}
        )
        populate(IncidentService(db), db)
        fuzzer = Fuzzer(app, db, seed=seed)
        began = STOPWATCH[0]()
        findings = fuzzer.run(requests)
        seconds = STOPWATCH[0]() - began
        problems = check_integrity(db)
    for route, counts in sorted(fuzzer.statuses.items()):
        print(f"{route:40} " + "  ".join(f"{status}×{count}" for status, count in sorted(counts.items())))
    print(f"\n{fuzzer.requests:,} requests in {seconds:.0f} s ({fuzzer.requests / seconds:.0f}/s), seed {seed}")
    print(f"{len(findings)} failed on the server")
    for finding in findings:
        print(f"  {finding}")
    print("integrity: " + ("intact" if not problems else "; ".join(problems)))
    return 1 if findings or problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default=None, help="a database URL (emptied first); SQLite by default")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'fuzz.sqlite3'}"
    sys.exit(run(args.requests, args.seed, url))


if __name__ == "__main__":
    main()
