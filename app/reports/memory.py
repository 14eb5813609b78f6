"""What the roll-ups need to remember of an incident's audit chain, so that a new row's roll-up rows
are worked out from the row and this memory alone (`app.reports.rollup`), at a cost that does not
grow with the incident's history (issue 13).

`ChainMemory.facts` gives exactly what `rollup.facts_at` gives for the same row with the whole chain
before it (`rebuild` still walks whole chains; tests/reports compare the two): each look-back of those
rules is kept as the value it would find — the last dispatch, the last resolution, the last transfer
or return from a change, whether a handling step was already taken, the last row of each signature
that makes a task ready with the first claim of each task kind since, and, for the rare completion
whose span falls back to its own task's rows (a task kind the table does not know, or no trigger
found), those rows' times per open task id, for as long as its kind has not been made ready (then
it never will be needed). The memory is a few hundred bytes of JSON, kept per
incident in `report_chain_memory` with the chain position it is folded through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from app.reports.events import AuditRow
from app.reports.filters import NONE, REGISTRATION, support_group
from app.reports.models import BREACH, CHANGE_WAIT, FIRST_STEP, REOPEN, ReportEvent, ReportTaskSpan
from app.reports.workload import ASSIGNMENT_KINDS, TAKEN_KINDS, TRIGGERS, TaskSpan, signatures, span_of

HANDLING_STEPS = frozenset(("initial_support", "first_line_handling", "second_line_handling", "coordinate_emergency"))
FIRST_ACTIONS = ("task_claimed", "task_completed")
# signature → the task kinds a row of it makes ready (again)
_RESTARTS = {
    signature: tuple(spec for spec, triggers in TRIGGERS.items() if signature in triggers)
    for signature in frozenset().union(*TRIGGERS.values())
}


_TASK_ENDS = ("task_completed", "task_withdrawn")


def is_first_step(row: AuditRow) -> bool:
    return row.kind in FIRST_ACTIONS and row.spec_id in HANDLING_STEPS


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def report_event(row: AuditRow, kind: str, **values) -> ReportEvent:
    """The roll-up event `row` gives."""
    return ReportEvent(
        audit_id=row.id, incident_id=row.incident_id, kind=kind, at=row.at, **{"breached_before": False, **values}
    )


def span_row(row: AuditRow, span: TaskSpan) -> ReportTaskSpan:
    """The roll-up row of the task `row` completes."""
    return ReportTaskSpan(
        audit_id=row.id, incident_id=row.incident_id, spec_id=span.spec_id, actor_id=span.actor_id,
        actor_name=span.actor_name, roles=span.roles, ready_at=span.ready_at, taken_at=span.taken_at,
        completed_at=span.completed_at, waiting_seconds=span.waiting_hours * 3600,
        working_seconds=span.working_hours * 3600,
    )  # fmt: skip


@dataclass
class ChainMemory:
    seq: int = 0  # the chain position folded through (0: nothing yet)
    first_step: bool = False  # a handling step was claimed or completed
    dispatch: list | None = None  # the last dispatch: [stage, group]
    resolution: list | None = None  # the last resolution: [stage]
    transfer: list | None = None  # the last transfer or return from a change: [kind, at]
    last: dict[str, list] = field(default_factory=dict)  # signature → [row id, at] of its last row
    taken: dict[str, str] = field(default_factory=dict)  # task kind → at of its first claim since it became ready
    before: str | None = None  # at of the last row that is not a claim, release or assignment
    # open task id → [ready at, taken at, task kind] by its own rows, while its completion may need them
    tasks: dict[str, list] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps(vars(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> ChainMemory:
        memory = cls(**json.loads(text))
        for own in memory.tasks.values():  # kept without the task kind at first
            own[2:] = own[2:] or [None]
        return memory

    def facts(self, row: AuditRow) -> Iterator[ReportTaskSpan | ReportEvent]:
        """The roll-up rows of `row`, the chain's next row after those folded in."""

        event_row = partial(report_event, row)
        if row.kind == "task_completed":
            yield span_row(row, span_of(row, *self._ready_and_taken(row)))
        if is_first_step(row) and not self.first_step:
            yield event_row(FIRST_STEP)
        if row.kind == BREACH:  # an earlier breach is the last row of its signature (it makes a task ready)
            group = support_group(*self.dispatch) if self.dispatch else None
            before = BREACH in self.last
            yield event_row(BREACH, level=row.level, support_group=group or REGISTRATION, breached_before=before)
        elif row.kind == REOPEN:
            dispatched = self.dispatch[1] if self.dispatch else None
            group = NONE if self.resolution is None else support_group(self.resolution[0], dispatched)
            yield event_row(REOPEN, support_group=group or NONE)
        elif row.kind == CHANGE_WAIT and self.transfer is not None and self.transfer[0] == "transferred":
            yield event_row(CHANGE_WAIT, seconds=(row.at - _at(self.transfer[1])).total_seconds())

    def _ready_and_taken(self, done: AuditRow) -> tuple[datetime, datetime | None]:
        """`workload.span_at`'s ready and taken times of the completion `done`."""
        triggers = TRIGGERS.get(done.spec_id or "")
        found = [self.last[signature] for signature in triggers or () if signature in self.last]
        if found:
            return _at(max(found)[1]), _at(self.taken.get(done.spec_id))
        own = self.tasks.get(done.task_id) if done.task_id is not None else None
        if own is None:  # no earlier row of its own: ready when the row before it was written
            return _at(self.before) or done.at, None
        return _at(own[0]), _at(own[1])

    def fold(self, row: AuditRow) -> None:
        """Take in the chain's next row (the caller moves `seq` on)."""
        at = row.at.isoformat()
        if row.task_id is not None and row.kind not in _TASK_ENDS:
            own = self.tasks.setdefault(row.task_id, [self.before or at, None, None])
            if own[1] is None and row.kind in TAKEN_KINDS:
                own[1] = at
            own[2] = row.spec_id or own[2]
        elif row.task_id is not None:
            self.tasks.pop(row.task_id, None)  # completed or withdrawn: no later row needs it
        if row.kind in TAKEN_KINDS and row.spec_id in TRIGGERS:
            self.taken.setdefault(row.spec_id, at)
        for signature in signatures(row):
            if signature in _RESTARTS:
                self.last[signature] = [row.id, at]
                for spec in _RESTARTS[signature]:
                    self.taken.pop(spec, None)
        if row.kind not in ASSIGNMENT_KINDS:
            self.before = at
        self.first_step = self.first_step or is_first_step(row)
        if row.kind == "dispatched":
            self.dispatch = [row.stage, row.group]
        elif row.kind == "resolved":
            self.resolution = [row.stage]
        elif row.kind in ("transferred", CHANGE_WAIT):
            self.transfer = [row.kind, at]
        # a task of a kind that has been made ready is timed from that when completed, not by its own
        # rows: those are forgotten (the memory stays small however many tasks came and went)
        for task_id in [task_id for task_id, own in self.tasks.items() if self._triggered(own[2])]:
            del self.tasks[task_id]

    def _triggered(self, spec_id: str | None) -> bool:
        return any(signature in self.last for signature in TRIGGERS.get(spec_id or "", ()))
