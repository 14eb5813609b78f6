"""The roll-ups' chain memory (app/reports/memory.py) gives, row by row, exactly the roll-up rows the
rules give when they walk the whole chain before the row (`rollup.facts_at`, what a rebuild runs) — on
random chains with every kind the rules look back for, task kinds the table does not know, claims,
releases, assignments, withdrawals and rows of a task before it is claimed; stored and read back as
JSON between any two rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.reports.events import AuditRow
from app.reports.memory import ChainMemory
from app.reports.rollup import SETTLING, _values, facts_at

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SPECS = ("initial_support", "first_line_handling", "confirm_resolution", "close_incident", "notify_fault",
         "follow_up_breach", "track_incident", "custom_review", None)  # fmt: skip
KINDS = ("dispatched", "resolved", "reopened", "announced", "transferred", "change_returned", "deadline_breach",
         "deadline_warning", "classified", "reclassified", "confirmation_unanswered", "forwarded_for_tracking",
         "comment_added", "attached")  # fmt: skip
TASK_KINDS = ("task_claimed", "task_released", "task_assigned", "task_completed", "task_withdrawn")


def _chain(rng: random.Random, length: int) -> list[AuditRow]:
    rows, tasks, at = [AuditRow(1, 7, T0, "started")], {}, T0
    for number in range(2, length + 2):
        at += timedelta(minutes=rng.choice((0, 1, 7, 90)), microseconds=rng.choice((0, 250_000)))
        if rng.random() < 0.5:
            task_id = rng.choice([*tasks, f"t{number}"]) if tasks else f"t{number}"
            spec = tasks.setdefault(task_id, rng.choice(SPECS))
            kind = rng.choice(TASK_KINDS)
            rows.append(AuditRow(number, 7, at, kind, rng.choice((None, 3, 4)), "某人", "first_line", task_id,
                                 spec if kind != "task_withdrawn" else None))  # fmt: skip
            if kind in ("task_completed", "task_withdrawn"):
                del tasks[task_id]
        else:
            kind = rng.choice(KINDS)
            task_id = rng.choice([*tasks, None]) if kind in ("comment_added", "attached") and tasks else None
            duty = kind in ("classified", "reclassified") and rng.random() < 0.5
            rows.append(AuditRow(number, 7, at, kind, 3, "某人", "first_line", task_id, None,
                                 stage=rng.choice(("first_line", "second_line", None)),
                                 group=rng.choice(("test", "development", None)),
                                 level=rng.choice(("minor", "major", None)), notification_duty=duty))  # fmt: skip
    return rows


@pytest.mark.parametrize("seed", range(40))
def test_the_memory_gives_what_walking_the_chain_gives(seed):
    rng = random.Random(seed)
    rows = _chain(rng, 120)
    memory = ChainMemory()
    settled = 0
    for index, row in enumerate(rows):
        if row.kind in SETTLING:
            remembered = [(type(fact), _values(fact)) for fact in memory.facts(row)]
            walked = [(type(fact), _values(fact)) for fact in facts_at(rows, index)]
            assert remembered == walked, (seed, index, row)
            settled += len(walked)
        memory.fold(row)
        memory.seq = index + 1
        if rng.random() < 0.3:
            memory = ChainMemory.loads(memory.dumps())
    assert settled > 10
    assert len(memory.dumps()) < 3000
