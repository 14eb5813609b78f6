"""Running one process instance: start, load, act, save — the SpiffWorkflow calls in one place.

A `Run` wraps a BpmnWorkflow for the span of one operation. It knows nothing of the database or
of users: the incident service loads the stored text, acts through a Run and stores `dump()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.engine import operations
from app.engine.model import ProcessModel
from app.engine.prune import prune
from app.engine.script_engine import SafeScriptEngine
from app.messages import N_

# Set while loading an instance: the parsed specs of its version, shared by every instance of it.
_VERSION_SPECS: ContextVar[tuple[Any, dict[str, Any]] | None] = ContextVar("version_specs", default=None)


class _VersionSpecConverter(BpmnWorkflowConverter):
    """Stores an instance without its process spec and restores it around its version's
    already-parsed specs: the spec is stored once per version (process_versions) and parsed once
    per process (app.process.validation.load), never written or rebuilt per action.

    The bodies are BpmnWorkflowConverter's of SpiffWorkflow 3.2.0 (pinned) without the `spec` and
    `subprocess_specs` keys; everything else is exactly what the stock serializer writes.
    """

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        specs = _VERSION_SPECS.get()
        if specs is None:
            raise RuntimeError("an instance is loaded only through Run.load, which knows its version's specs")
        dct.pop("spec", None)  # a snapshot written by the stock serializer still carries a copy
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(specs[0], specs[1], deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


SERIALIZER = BpmnWorkflowSerializer(
    BpmnWorkflowSerializer.configure({**DEFAULT_CONFIG, BpmnWorkflow: _VersionSpecConverter})
)
SERIALIZER_VERSION = SERIALIZER.VERSION
TIMER_EVENT_TYPES = {cls.__name__ for cls in (TimerEventDefinition, *TimerEventDefinition.__subclasses__())}


class EngineError(RuntimeError):
    """The engine refused an action; `message` is an English message id for the user."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


TASK_GONE = N_("This task has already been completed, or no longer exists.")

# Engine steps (gateways, service tasks, events) one action may take before the engine stops it. A
# path through the incident process takes at most ~20 (measured); a loop that never waits (a diagram error the
# model check refuses, app.process.waits) would otherwise run on while its transaction holds the lock.
MAX_STEPS = 200


class StepBudgetExceeded(WorkflowException):
    """The process ran MAX_STEPS steps without reaching a task that waits: it loops. Nothing is saved."""

    def __init__(self) -> None:
        super().__init__(f"the process ran {MAX_STEPS} steps without reaching a task that waits: the diagram loops")


def _step_budget(limit: int):
    """A do_engine_steps callback that stops the engine after `limit` steps."""
    taken = 0

    def step(_task: Any) -> None:
        nonlocal taken
        taken += 1
        if taken > limit:
            raise StepBudgetExceeded()

    return step


@dataclass(frozen=True)
class ReadyTask:
    id: str
    spec_id: str
    name: str
    lane: str
    data: Mapping[str, Any]
    due: datetime | None = None  # the task's own time limit: a timer on its boundary, pending or fired


class Run:
    def __init__(self, model: ProcessModel, workflow: BpmnWorkflow, context: operations.Context):
        self.model = model
        self.workflow = workflow
        self.context = context

    @classmethod
    def start(cls, model: ProcessModel, context: operations.Context, data: Mapping[str, Any]) -> Run:
        engine = SafeScriptEngine(context)
        workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=engine)
        for name in workflow.spec.data_objects:  # data objects start as empty objects, not None
            workflow.data_objects[name] = {}
        workflow.task_tree.data.update(data)
        run = cls(model, workflow, context)
        run.advance()
        return run

    @classmethod
    def load(cls, model: ProcessModel, text: str, context: operations.Context) -> Run:
        token = _VERSION_SPECS.set((model.spec, model.subprocess_specs))
        try:
            workflow = SERIALIZER.deserialize_json(text)
        finally:
            _VERSION_SPECS.reset(token)
        workflow.script_engine = SafeScriptEngine(context)  # not serialized: re-attach after every load
        return cls(model, workflow, context)

    def dump(self) -> str:
        """The state to store, without what the instance can never revisit (app.engine.prune)."""
        prune(self.workflow)
        return SERIALIZER.serialize_json(self.workflow)

    def advance(self) -> None:
        """Run everything the engine can run by itself (gateways, service tasks, due timers)."""
        self.workflow.refresh_timers()
        self.workflow.do_engine_steps(did_complete_task=_step_budget(MAX_STEPS))

    def ready_tasks(self) -> list[ReadyTask]:
        return [self._ready(task) for task in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def ready_task(self, task_id: str) -> ReadyTask:
        return self._ready(self._task(task_id))

    def _ready(self, task: Any) -> ReadyTask:
        spec = task.task_spec
        name, lane = spec.bpmn_name or spec.bpmn_id, self.model.lanes.get(spec.bpmn_id, "")
        return ReadyTask(str(task.id), spec.bpmn_id, name, lane, task.data, _boundary_timer_due(task))

    def _task(self, task_id: str) -> Any:
        """A ready user task by id; EngineError when it was completed by someone else, or cancelled."""
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (TaskNotFoundException, ValueError):
            raise EngineError(TASK_GONE) from None
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise EngineError(TASK_GONE)
        return task

    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        task = self._task(task_id)
        task.set_data(**data)
        task.run()
        self.advance()

    def signal(self, name: str, payload: Mapping[str, Any]) -> None:
        """Throw a signal into the instance; refused when nothing is waiting for it."""
        try:
            self.workflow.send_event(BpmnEvent(SignalEventDefinition(name), dict(payload)))
        except WorkflowException:
            raise EngineError(N_("The incident is not in a state that accepts this action now.")) from None
        self.advance()

    def cancel(self) -> None:
        """End the instance where it stands (a withdrawn incident): no task is ready, no timer waits."""
        self.workflow.cancel()

    def next_timer_due(self) -> datetime | None:
        """The earliest pending timer, for the sweeper's indexed column; NEVER timers do not count."""
        events = self.workflow.waiting_events()
        due = [_timer_time(event.value) for event in events if event.event_type in TIMER_EVENT_TYPES]
        return min(filter(None, due), default=None)


def _boundary_timer_due(task: Any) -> datetime | None:
    """The earliest timer attached to this task (e.g. the fault-notification window), if any.

    Boundary events are the task's siblings under a BoundaryEventSplit; a fired timer keeps its
    time, so a task whose window has passed still shows as overdue."""
    if task.parent is None or not isinstance(task.parent.task_spec, BoundaryEventSplit):
        return None
    timers = [
        sibling
        for sibling in task.parent.children
        if isinstance(getattr(sibling.task_spec, "event_definition", None), TimerEventDefinition)
    ]
    due = [_timer_time(timer.internal_data.get("event_value")) for timer in timers]
    return min(filter(None, due), default=None)


def _timer_time(value: Any) -> datetime | None:
    """A date or duration timer's due time as SpiffWorkflow stores it (ISO text); None for a cycle
    timer's state, a timer not yet armed, or NEVER (a deadline that no longer applies)."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value != operations.NEVER else None
