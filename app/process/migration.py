"""Moving a running incident onto another version of the process, with SpiffWorkflow 3.2's own
`diff_workflow` / `migrate_workflow` (SpiffWorkflow.bpmn.util.diff).

Tasks are matched by element id. An incident can move when nothing it is doing or has done is missing
from the new version: a task it waits at, or one it passed, that the new version removes makes the move
unsafe (the engine could not restore it), and so does a sub-process it is inside that the new version
removes. The move itself resets the tasks the incident waits at onto the new version's elements and lets
the engine go on (a task added right after where it stands becomes ready); the result must then survive
a save and a load on the new version, or the move is refused. Nothing here touches the database: the
incident service (app.incidents.service.IncidentService.migrate) stores the moved instance and audits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from app.engine.model import ProcessModel
from app.engine.runtime import SERIALIZER, Run
from app.messages import N_, Message

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
PREDICTED = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE  # reset and predicted again by the move


@dataclass
class Preview:
    """What moving one incident would do: its open tasks added, removed and kept (element ids)."""

    can_move: bool
    reason: Message | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def migrate(run: Run, new: ProcessModel) -> Preview:
    """Move `run` onto `new` in place; the preview says what changed, or why it cannot move (then `run` must
    be thrown away: it may be half moved)."""
    before = _open(run)
    workflow = run.workflow
    try:
        top, subprocesses = diff_workflow(SERIALIZER.registry, workflow, new.spec, new.subprocess_specs)
    except (WorkflowException, KeyError, AttributeError) as error:
        return _refused(N_("the versions cannot be compared: %(error)s"), error=str(error))
    for task in _not_predicted(top.removed):
        return _removed(task)
    for sub_id, sub_diff in subprocesses.items():
        sub = workflow.subprocesses[sub_id]
        if sub_diff is None:
            if sub.get_tasks(state=ACTIVE):
                return _refused(N_("it is inside the sub-process %(element)s, which the new version removes"),
                                element=sub.spec.name)  # fmt: skip
            continue
        for task in _not_predicted(sub_diff.removed):
            return _removed(task)
    try:
        migrate_workflow(top, workflow, new.spec)
        for sub_id, sub_diff in subprocesses.items():
            if sub_diff is not None:
                sub = workflow.subprocesses[sub_id]
                migrate_workflow(sub_diff, sub, new.subprocess_specs[sub.spec.name])
        workflow.subprocess_specs = new.subprocess_specs
        run.model = new
        run.advance()
        Run.load(new, run.dump(), run.context)  # what is stored must load on the new version
    except (WorkflowException, KeyError, ValueError, TypeError) as error:
        return _refused(N_("the engine could not move it: %(error)s"), error=str(error))
    after = _open(run)
    return Preview(
        can_move=True,
        added=sorted(after - before),
        removed=sorted(before - after),
        unchanged=sorted(before & after),
    )


def _open(run: Run) -> set[str]:
    """The elements the incident waits at: tasks for people and events (timers, signals)."""
    return {task.spec_id for task in run.ready_tasks()} | {
        task.task_spec.bpmn_id for task in run.workflow.get_tasks(state=TaskState.WAITING) if task.task_spec.bpmn_id
    }


def _not_predicted(tasks: list[Any]) -> list[Any]:
    """Tasks the incident has run or runs now; predicted ones are predicted again on the new version."""
    return [task for task in tasks if not task.state & PREDICTED]


def _removed(task: Any) -> Preview:
    element = task.task_spec.bpmn_id or task.task_spec.name
    if task.state & ACTIVE:
        return _refused(N_("it waits at %(element)s, which the new version removes"), element=element)
    return _refused(N_("it has passed %(element)s, which the new version removes"), element=element)


def _refused(text: str, **params: Any) -> Preview:
    return Preview(can_move=False, reason=Message(text, params))
