"""Where the test suite's time goes: each test's setup, call and teardown on the real clock.

pytest's own `--durations` reads the clock that freezegun stops (tests under the `clock` fixture show
nonsense there); this plugin reads CLOCK_MONOTONIC, which freezegun leaves alone.

Run the suite with it, then read the times (docs/bench.md, *Test suite time*):

    SUITE_TIMES=/tmp/times PYTHONPATH=bench .venv/bin/python -m pytest -p suite_times -n 2
    .venv/bin/python bench/suite_times.py /tmp/times

Each test process writes `<SUITE_TIMES>/<worker>.json`; the report gives the time per backend and phase,
per directory, per worker (the workers should finish together) and the slowest tests.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

PHASES = ("setup", "call", "teardown")
_times: list[tuple[str, str, float]] = []


def _now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _timed(phase: str):
    @pytest.hookimpl(hookwrapper=True)
    def hook(item):
        start = _now()
        yield
        _times.append((item.nodeid, phase, _now() - start))

    return hook


pytest_runtest_setup = _timed("setup")
pytest_runtest_call = _timed("call")
pytest_runtest_teardown = _timed("teardown")


def pytest_sessionfinish(session) -> None:
    folder = os.environ.get("SUITE_TIMES")
    if folder and _times:
        Path(folder).mkdir(parents=True, exist_ok=True)
        name = os.environ.get("PYTEST_XDIST_WORKER", "main")
        (Path(folder) / f"{name}.json").write_text(json.dumps(_times))


def report(folder: Path, slowest: int = 15) -> None:
    per_test, phases, directories = Counter(), Counter(), Counter()
    for path in sorted(folder.glob("*.json")):
        rows = json.loads(path.read_text())
        print(f"{path.stem}: {sum(t for _, _, t in rows):.0f} s, {len({n for n, _, _ in rows})} tests")
        for nodeid, phase, seconds in rows:
            per_test[nodeid] += seconds
            phases[("postgresql" if "postgresql" in nodeid else "sqlite/none", phase)] += seconds
            directories["/".join(nodeid.split("::")[0].split("/")[:2])] += seconds
    print(f"all: {sum(per_test.values()):.0f} s, {len(per_test)} tests")
    for (backend, phase), seconds in sorted(phases.items()):
        print(f"  {backend:11} {phase:8} {seconds:7.0f} s")
    for directory, seconds in directories.most_common(10):
        print(f"  {seconds:7.0f} s  {directory}")
    for nodeid, seconds in per_test.most_common(slowest):
        print(f"  {seconds:7.1f} s  {nodeid}")


if __name__ == "__main__":
    report(Path(sys.argv[1]))
