"""Engine and service benchmark: what one action on an incident costs, and how instances grow.

Run: `.venv/bin/python bench/engine_bench.py [--incidents N] [--database URL]` (SQLite in a
temporary folder by default). Prints latency percentiles per action, the stored size of an
instance as it goes through the process, and peak memory of one action. Targets (docs/bench.md):
an action p95 under 60 ms on SQLite on the development machine, an instance under 200 KB after
three reopen loops, the timer sweep over 1,000 idle instances under 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import tracemalloc
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from freezegun import freeze_time
from freezegun.api import real_perf_counter
from sqlalchemy import func, select

from app import migrate
from app.audit import SYSTEM
from app.db import Database
from app.incidents import state
from app.incidents.service import IncidentService
from app.models import Incident, OpenTask
from app.process import versions
from app.users import actor_of, create_user

AUDIT_KEY = b"bench-audit-key"  # the audit log's HMAC key (app/audit)
TIMINGS: dict[str, list[float]] = defaultdict(list)
# freezegun swaps module attributes that are the real clock functions; kept in a tuple, the stopwatch runs.
STOPWATCH = (real_perf_counter,)


@contextmanager
def timed(name: str):
    start = STOPWATCH[0]()
    yield
    TIMINGS[name].append((STOPWATCH[0]() - start) * 1000)


def registration(complaints: int) -> dict:
    return {
        "incident": {"title": "计费接口超时", "description": "压测", "source": "hotline"},
        "facts": {
            "type": "fault",
            "fault_category": "interface",
            "core_business_impact": "no",
            "complaints": complaints,
        },
        "on_spot": {"solved": False},
    }


def task_id(db: Database, incident_id: int, spec_id: str) -> str:
    with db.read() as session:
        query = select(OpenTask.id).where(OpenTask.incident_id == incident_id, OpenTask.spec_id == spec_id)
        return session.scalar(query)


def size(db: Database, incident_id: int) -> int:
    """The stored engine state as written (compressed), in bytes."""
    with db.read() as session:
        return len(state.read(session, incident_id).state)


def run(incidents: int, url: str) -> None:
    migrate.upgrade(url)
    db = Database(url, audit_key=AUDIT_KEY)
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
        people = {role: actor_of(create_user(session, role, "password123", [role], hash_method="pbkdf2:sha256:1"))
                  for role in ("service_desk", "first_line", "requester", "incident_manager")}  # fmt: skip
    service = IncidentService(db)
    sizes: dict[str, list[int]] = defaultdict(list)
    with freeze_time("2026-03-02T01:00:00Z") as clock:
        for n in range(incidents):
            with timed("register (start + registration)"):
                incident_id = service.start(people["service_desk"], requester_id=people["requester"].user_id,
                                            registration=registration(20 + n % 20))  # fmt: skip
            sizes["registered"].append(size(db, incident_id))
            with timed("complete task"):
                service.complete_task(people["service_desk"], incident_id, task_id(db, incident_id, "initial_support"),
                                      {"handling": {"outcome": "pass_on", "next_stage": "first_line"}})  # fmt: skip
            with timed("add facts (re-classify)"):
                service.add_facts(people["first_line"], incident_id, {"note": "更多投诉", "complaints": 45})
            for loop in range(3):
                with timed("complete task"):
                    service.complete_task(people["first_line"], incident_id,
                                          task_id(db, incident_id, "first_line_handling"),
                                          {"handling": {"outcome": "resolved", "solution_kind": "resolved",
                                                        "solution": "修复"}})  # fmt: skip
                confirmation = {"confirmation": {"resolved": loop == 2, "comment": "仍未解决"}}
                with timed("complete task"):
                    service.complete_task(people["requester"], incident_id,
                                          task_id(db, incident_id, "confirm_resolution"), confirmation)  # fmt: skip
                if loop < 2:
                    sizes[f"after reopen {loop + 1}"].append(size(db, incident_id))
            sizes["after three resolutions"].append(size(db, incident_id))
            clock.tick(timedelta(seconds=1))
        with db.read() as session:
            idle = session.scalar(select(func.count()).select_from(Incident))
        for _ in range(5):
            with timed(f"timer sweep, nothing due ({idle} instances)"):
                service.fire_due_timers()
    tracemalloc.start()
    with freeze_time("2026-03-02T02:00:00Z"):
        incident_id = service.start(people["service_desk"], registration=registration(20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    print(f"{'action':<45}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, values in TIMINGS.items():
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"{name:<45}{len(values):>6}{statistics.median(values):>10.1f}{p95:>10.1f}{values[-1]:>10.1f}")
    print(f"\n{'stored instance':<45}{'mean KB':>10}")
    for name, values in sizes.items():
        print(f"{name:<45}{statistics.mean(values) / 1024:>10.1f}")
    print(f"\npeak memory of one registration: {peak / 1024 / 1024:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(args.incidents, args.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}")


if __name__ == "__main__":
    main()
