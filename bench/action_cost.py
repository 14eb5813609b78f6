"""What one action costs through the service against the bare engine, and whether it grows with history.

Run: `.venv/bin/python bench/action_cost.py [--incidents N] [--history N] [--database URL]`
(SQLite in a temporary folder by default). Two measurements in one process:

1. **Service vs bare engine** (docs/bench.md, target ≤ 2×): the same path (registration, initial
   support, first line resolves, the requester rejects, first line resolves, the requester confirms,
   the service desk closes) driven through `IncidentService` (lock, load, act, save, audit, commit)
   and through bare SpiffWorkflow 3.2 doing the same steps (deserialize, run the task, engine steps,
   serialize), interleaved incident by incident. The bare engine is measured twice: with its stock
   serializer (the whole spec in every snapshot) and restoring around the already-parsed spec.
2. **History growth** (target: the 200th action ≤ 1.2× the 5th, in time and stored size): one
   incident looped through handling → rejected confirmation → handling, with new facts every tenth
   round, for `--history` actions; `--history 1000` shows that 1,000 actions run without error.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app runs from the checkout

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app import forms, migrate  # noqa: E402
from app.audit import SYSTEM  # noqa: E402
from app.db import Database  # noqa: E402
from app.engine import operations  # noqa: E402
from app.engine.runtime import SERIALIZER, Run  # noqa: E402
from app.engine.script_engine import SafeScriptEngine  # noqa: E402
from app.incidents import state  # noqa: E402
from app.incidents.service import IncidentService
from app.models import OpenTask, utcnow  # noqa: E402
from app.process import versions  # noqa: E402
from app.users import actor_of, create_user  # noqa: E402

AUDIT_KEY = b"bench-audit-key"  # the audit log's HMAC key (app/audit); the server gets it too
STOCK = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
REGISTRATION = {
    "incident": {"title": "计费接口超时", "description": "压测", "source": "hotline"},
    "facts": {"type": "fault", "fault_category": "interface", "complaints": 20, "core_business_impact": "no"},
    "on_spot": {"solved": False},
}
RESOLVED = {"handling": {"outcome": "resolved", "solution_kind": "resolved", "solution": "修复"}}
REJECTED = {"confirmation": {"resolved": False, "comment": "仍未解决"}}
# (role, task, form) after the registration: the path both the service and the bare engine take.
PATH = [
    ("service_desk", "initial_support", {"handling": {"outcome": "pass_on", "next_stage": "first_line"}}),
    ("first_line", "first_line_handling", RESOLVED),
    ("requester", "confirm_resolution", REJECTED),
    ("first_line", "first_line_handling", RESOLVED),
    ("requester", "confirm_resolution", {"confirmation": {"resolved": True}}),
    ("service_desk", "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}}),
]


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def ms_since(start: tuple[float, float]) -> tuple[float, float]:
    """Wall-clock and CPU time (of this process: not the database server's) since `start`, in ms."""
    return (time.perf_counter() - start[0]) * 1000, (time.process_time() - start[1]) * 1000


class Bare:
    """Bare SpiffWorkflow: the instance lives as serializer text between steps, as in any server."""

    def __init__(self, model, *, stock: bool):
        self.model, self.stock = model, stock
        self.text = ""

    def _load(self, context):
        if not self.stock:  # the same restore as the service's, without anything else the service does
            return Run.load(self.model, self.text, context).workflow
        workflow = STOCK.deserialize_json(self.text)
        workflow.script_engine = SafeScriptEngine(context)
        return workflow

    def _save(self, workflow) -> None:
        self.text = (STOCK if self.stock else SERIALIZER).serialize_json(workflow)

    def start(self, data: dict) -> None:
        context = operations.Context(utcnow())
        workflow = BpmnWorkflow(self.model.spec, self.model.subprocess_specs, script_engine=SafeScriptEngine(context))
        for name in workflow.spec.data_objects:
            workflow.data_objects[name] = {}
        workflow.task_tree.data.update({"incident": data["incident"]})
        workflow.do_engine_steps()
        self._save(workflow)
        self.act("register_incident", data)

    def act(self, spec_id: str, data: dict) -> None:
        workflow = self._load(operations.Context(utcnow()))
        workflow.refresh_timers()
        workflow.do_engine_steps()
        (task,) = [task for task in workflow.get_tasks(state=TaskState.READY, manual=True)
                   if task.task_spec.bpmn_id == spec_id]  # fmt: skip
        task.set_data(**data)
        task.run()
        workflow.do_engine_steps()
        self._save(workflow)


def setup(url: str):
    migrate.upgrade(url)
    db = Database(url, audit_key=AUDIT_KEY)
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
        people = {role: actor_of(create_user(session, f"bench_{role}", "password123", [role], role,
                                             hash_method="pbkdf2:sha256:1"))
                  for role in ("service_desk", "first_line", "requester", "incident_manager")}  # fmt: skip
        model = versions.ModelCache().get(versions.latest(session))
    return db, IncidentService(db), people, model


def task_id(db: Database, incident_id: int, spec_id: str) -> str:
    with db.read() as session:
        query = select(OpenTask.id).where(OpenTask.incident_id == incident_id, OpenTask.spec_id == spec_id)
        return session.scalar(query)


def validated(model, spec_id: str, data: dict) -> dict:
    return forms.validate(model.form(spec_id)[0], data)


class Statements:
    """SQL statements sent, counted (not timed: counting costs a few microseconds each)."""

    def __init__(self):
        self.sent = 0
        event.listen(Engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        self.sent += 1

    def close(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._count)


def service_vs_bare(db, service, people, model, incidents: int, statements: list[int] | None = None
                    ) -> dict[str, list[tuple[float, float]]]:  # fmt: skip
    """Per-action wall and CPU times (ms); the SQL statements of each service action go to `statements`."""
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    counter = Statements()
    # The bare engine gets the data as the service hands it on: validated, every field present.
    path = [(role, spec_id, data, validated(model, spec_id, data)) for role, spec_id, data in PATH]
    registration = validated(model, "register_incident", REGISTRATION)
    for _ in range(incidents):
        start = clock()
        incident_id = service.start(people["service_desk"], requester_id=people["requester"].user_id,
                                    registration=REGISTRATION)  # fmt: skip
        times["service: register"].append(ms_since(start))
        for stock in (True, False):
            bare = Bare(model, stock=stock)
            start = clock()
            bare.start(registration)
            times[f"bare {'stock' if stock else 'no spec'}: register"].append(ms_since(start))
            for _role, spec_id, _data, clean in path:
                start = clock()
                bare.act(spec_id, clean)
                times[f"bare {'stock' if stock else 'no spec'}: action"].append(ms_since(start))
        for role, spec_id, data, _clean in path:
            task = task_id(db, incident_id, spec_id)
            sent, start = counter.sent, clock()
            service.complete_task(people[role], incident_id, task, data)
            times["service: action"].append(ms_since(start))
            if statements is not None:
                statements.append(counter.sent - sent)
    counter.close()
    return times


def history(db, service, people, actions: int) -> tuple[list[tuple[float, float]], list[int]]:
    """Per-action wall and CPU time (ms) and stored size (bytes of state text) of one incident, action by action."""
    incident_id = service.start(people["service_desk"], requester_id=people["requester"].user_id,
                                registration=REGISTRATION)  # fmt: skip
    service.complete_task(people["service_desk"], incident_id, task_id(db, incident_id, "initial_support"),
                          PATH[0][2])  # fmt: skip
    times, sizes = [], []
    rounds, at_handling, facts_added = 0, True, False
    while len(times) < actions:
        start = clock()
        if at_handling and rounds % 10 == 9 and not facts_added:  # new facts restart the handling round
            service.add_facts(people["first_line"], incident_id, {"note": "更多投诉", "complaints": 21 + rounds % 5})
            facts_added = True
        else:
            role, spec_id, data = PATH[1] if at_handling else PATH[2]
            task = task_id(db, incident_id, spec_id)
            start = clock()
            service.complete_task(people[role], incident_id, task, data)
            if not at_handling:
                rounds, facts_added = rounds + 1, False
            at_handling = not at_handling
        times.append(ms_since(start))
        with db.read() as session:
            sizes.append(len(state.text_of(session, incident_id)))
    return times, sizes


WINDOW = 10  # actions: a round of handling and confirmation, and facts, differ; compare like with like


def window(values: list[float], first: int) -> list[float]:
    """Actions number `first` … `first` + WINDOW - 1 (1-based)."""
    return values[first - 1 : first - 1 + WINDOW]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=30, help="incidents driven along the path (part 1)")
    parser.add_argument("--history", type=int, default=200, help="actions on one incident (part 2)")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db, service, people, model = setup(args.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        service_vs_bare(db, service, people, model, 2)  # warm-up: parse caches, first connections
        statements: list[int] = []
        times = service_vs_bare(db, service, people, model, args.incidents, statements)
        print(f"{'per action (ms)':<28}{'n':>6}{'wall p50':>10}{'wall p95':>10}{'CPU p50':>10}")
        for name, values in sorted(times.items()):
            walls, cpus = sorted(wall for wall, _ in values), [cpu for _, cpu in values]
            p95 = walls[min(len(walls) - 1, int(len(walls) * 0.95))]
            print(f"{name:<28}{len(values):>6}{statistics.median(walls):>10.2f}{p95:>10.2f}"
                  f"{statistics.median(cpus):>10.2f}")  # fmt: skip
        for bare in ("bare stock: action", "bare no spec: action"):
            ours, theirs = times["service: action"], times[bare]
            ratios = [statistics.median(v[i] for v in ours) / statistics.median(v[i] for v in theirs) for i in (0, 1)]
            print(f"service / {bare.removesuffix(': action')}: wall {ratios[0]:.2f}×, CPU {ratios[1]:.2f}×")
        extra = " + BEGIN and COMMIT" if db.is_postgresql else " (BEGIN IMMEDIATE among them) + COMMIT"
        print(f"SQL statements per service action: median {statistics.median(statements):g}, "
              f"min {min(statements)}, max {max(statements)}{extra}")  # fmt: skip

        spent, sizes = history(db, service, people, args.history)
        early, late = 5, args.history - WINDOW + 1
        print(f"\nhistory: {args.history} actions on one incident, no error")
        print(f"{'actions':<14}{'wall p50':>10}{'CPU p50':>10}{'largest state B':>17}")
        for first in (early, late):
            walls, cpus = ([value[i] for value in window(spent, first)] for i in (0, 1))
            print(f"{first}–{first + WINDOW - 1:<10}{statistics.median(walls):>10.2f}{statistics.median(cpus):>10.2f}"
                  f"{max(window(sizes, first)):>17}")  # fmt: skip
        later, earlier = window(spent, late), window(spent, early)
        ratios = [statistics.median(v[i] for v in later) / statistics.median(v[i] for v in earlier) for i in (0, 1)]
        size_ratio = max(window(sizes, late)) / max(window(sizes, early))
        print(f"late ÷ early: wall {ratios[0]:.2f}×, CPU {ratios[1]:.2f}×, state {size_ratio:.2f}×")
        db.dispose()


if __name__ == "__main__":
    main()
