"""Running one process instance: start, load, act, save — the SpiffWorkflow calls in one place.

A `Run` wraps a BpmnWorkflow for the span of one operation. It knows nothing of the database or
of users: the incident service loads the stored text, acts through a Run and stores `dump()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.engine import operations
from app.engine.model import ProcessModel
from app.engine.script_engine import SafeScriptEngine
from app.messages import N_

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
SERIALIZER_VERSION = SERIALIZER.VERSION
TIMER_EVENT_TYPES = {cls.__name__ for cls in (TimerEventDefinition, *TimerEventDefinition.__subclasses__())}


class EngineError(RuntimeError):
    """The engine refused an action; `message` is an English message id for the user."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


TASK_GONE = N_("This task has already been completed, or no longer exists.")


@dataclass(frozen=True)
class ReadyTask:
    id: str
    spec_id: str
    name: str
    lane: str
    data: Mapping[str, Any]


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
        workflow = SERIALIZER.deserialize_json(text)
        workflow.script_engine = SafeScriptEngine(context)  # not serialized: re-attach after every load
        return cls(model, workflow, context)

    def dump(self) -> str:
        return SERIALIZER.serialize_json(self.workflow)

    def advance(self) -> None:
        """Run everything the engine can run by itself (gateways, service tasks, due timers)."""
        self.workflow.refresh_timers()
        self.workflow.do_engine_steps()

    def ready_tasks(self) -> list[ReadyTask]:
        return [
            ReadyTask(
                str(task.id),
                task.task_spec.bpmn_id,
                task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                self.model.lanes.get(task.task_spec.bpmn_id, ""),
                task.data,
            )
            for task in self.workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    def ready_task(self, task_id: str) -> ReadyTask:
        for task in self.ready_tasks():
            if task.id == task_id:
                return task
        raise EngineError(TASK_GONE)  # completed by someone else, or cancelled

    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (TaskNotFoundException, ValueError):
            raise EngineError(TASK_GONE) from None
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise EngineError(TASK_GONE)
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

    def waiting_signals(self) -> set[str]:
        return {event.name for event in self.workflow.waiting_events() if event.event_type == "SignalEventDefinition"}

    def next_timer_due(self) -> datetime | None:
        """The earliest pending timer, for the sweeper's indexed column; NEVER timers do not count."""
        due = [
            datetime.fromisoformat(event.value)
            for event in self.workflow.waiting_events()
            if event.event_type in TIMER_EVENT_TYPES
            and isinstance(event.value, str)
            and event.value != operations.NEVER
        ]
        return min(due, default=None)
