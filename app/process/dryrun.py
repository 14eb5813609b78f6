"""A dry run: a draft run by the real engine, in memory, on sample incidents that cover every path.

Each story (`STORIES`, after the demo data's) registers an incident and then answers the tasks the process
asks for, by the variable their form writes (`handling`, `confirmation`, `closure`, …), and throws the
signals the application throws (`case_updated`, `tracking_requested`). It ends where the incident should
(closed, or transferred). Whatever the draft does differently shows: a task the story expects that never
comes, a form that refuses the story's answer, an expression that fails, a signal nothing catches, or an
incident that is still open after the story's last step — each with the element where the path got stuck.

Nothing is stored and nothing leaves the engine: the operations report into a `Context` that is thrown away.
Decisions: timers are not fired (the engine's clock is the real one, and moving it would move it for every
request of the process): a timer a path waits at is listed. The result is shown before publication and does
not refuse it — a story written for the current process may rightly no longer apply to a changed one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from app import forms
from app.engine import operations
from app.engine.model import ProcessModel
from app.engine.runtime import EngineError, ReadyTask, Run
from app.messages import N_, Message
from app.models import utcnow
from app.process import validation

STEP_TYPES = ("ServiceTask", "EndEvent", "BoundaryEvent", "IntermediateCatchEvent", "IntermediateThrowEvent")
MAX_ANSWERS = 40  # tasks one story may answer: a path that keeps asking is a loop, not a story
NOT_ENDED = {
    "closed": N_("after the story's last step the incident is not closed"),
    "transferred": N_(
        "after the story's last step the incident is not transferred to the defect or requirement process"
    ),
}


@dataclass(frozen=True)
class Step:
    """Answer the task whose form writes `variable` with `data`, or throw the signal `signal` with `data`."""

    data: Mapping[str, Any]
    variable: str = ""
    signal: str = ""


@dataclass(frozen=True)
class Story:
    key: str
    title: str  # an English message id (translated where it is shown)
    registration: Mapping[str, Any]
    steps: tuple[Step, ...]
    ends: str  # the incident's last event: "closed" or "transferred"


@dataclass
class Outcome:
    story: Story
    reached: bool = False
    path: list[str] = field(default_factory=list)  # element ids, in the order they ran
    stuck_at: str | None = None  # the element the path got stuck at
    reason: Message | None = None
    waiting: list[str] = field(default_factory=list)  # element ids of tasks and timers still waiting


def _registration(type_: str, *, solved: str | None = None, **facts: Any) -> dict[str, Any]:
    fact_values: dict[str, Any] = {"type": type_, **facts}
    if type_ == "fault":
        fact_values.setdefault("fault_category", "application")
        fact_values.setdefault("core_business_impact", "no")
    on_spot: dict[str, Any] = {"solved": solved is not None}
    if solved:
        on_spot.update(kind="resolved", solution=solved)
    incident = {"title": "试运行事件", "description": "流程试运行的样例事件", "source": "hotline", "system": "计费"}
    return {"incident": incident, "facts": fact_values, "on_spot": on_spot}


def _answer(variable: str, **data: Any) -> Step:
    return Step({variable: data}, variable=variable)


def _pass(stage: str, group: str | None = None) -> Step:
    return _answer("handling", outcome="pass_on", next_stage=stage, group=group, notes="本环节无法解决，移交")


def _solve(kind: str = "resolved") -> Step:
    return _answer("handling", outcome="resolved", solution_kind=kind, solution="试运行的解决方案", notes="已定位")


CONFIRM = _answer("confirmation", resolved=True, customer_confirmed=True)
CLOSE = _answer("closure", code="resolved", follow_up="none", customer_confirmed=True)
NOTIFY = _answer("notification", channels=["sms"], recipients="值班", content="试运行故障通报")

STORIES = (
    Story("on_spot", N_("Solved on the spot at registration"),
          _registration("consultation", solved="已电话解释"), (), "closed"),
    Story("first_line", N_("First line resolves; the requester confirms; closed"),
          _registration("fault", complaints=5), (_pass("first_line"), _solve(), CONFIRM, CLOSE), "closed"),
    Story("second_line", N_("Second line (development) resolves; closed"),
          _registration("fault", complaints=5),
          (_pass("first_line"), _pass("second_line", "development"), _solve(), CONFIRM, CLOSE), "closed"),
    Story("problem_ticket", N_("A workaround, closed with a problem ticket"),
          _registration("request", customer_demand=True),
          (_solve("workaround"), CONFIRM,
           _answer("closure", code="workaround", follow_up="problem", follow_up_title="试运行问题单")), "closed"),
    Story("follow_up", N_("A workaround, closed with a follow-up incident"),
          _registration("complaint", complaints=3),
          (_solve("workaround"), CONFIRM,
           _answer("closure", code="workaround", follow_up="incident", follow_up_title="试运行后续事件")), "closed"),
    Story("change", N_("Second line transfers it to the defect process"),
          _registration("fault", complaints=5),
          (_pass("second_line", "development"),
           _answer("handling", outcome="change", change_kind="defect", change_reference="BUG-DRY-1")), "transferred"),
    Story("reopened", N_("Not resolved at confirmation: reopened, resolved again, closed"),
          _registration("fault", complaints=5),
          (_pass("first_line"), _solve(), _answer("confirmation", resolved=False, comment="仍有问题"), _solve(),
           CONFIRM, CLOSE), "closed"),
    Story("emergency", N_("An emergency: fault notification, an announcement, resolved by the incident manager"),
          _registration("fault", core_interruption_minutes=35, core_business_impact="yes"),
          (NOTIFY, _answer("handling", outcome="announce", announcement="试运行紧急公告"), _solve(), CONFIRM, CLOSE),
          "closed"),
    Story("facts_added", N_("Facts added during handling: re-classified, then resolved"),
          _registration("fault", complaints=5),
          (_pass("first_line"), Step({"facts": {"complaints": 30}, "note": "投诉增加"}, signal="case_updated"),
           _solve(), CONFIRM, CLOSE), "closed"),
    Story("tracking", N_("Forwarded to the incident manager for tracking, then resolved"),
          _registration("fault", complaints=5),
          (_pass("first_line"), Step({"note": "请跟踪"}, signal="tracking_requested"),
           _answer("tracking", action="coordinated", note="已跟踪"), _solve(), CONFIRM, CLOSE), "closed"),
)  # fmt: skip


def run_all(model: ProcessModel, now: datetime | None = None) -> list[Outcome]:
    return [run_story(model, story, now or utcnow()) for story in STORIES]


def for_document(text: str, forms_text: Mapping[str, str]) -> list[Outcome]:
    """The dry run of a diagram and its forms (kept per content: about 1.5 s); raises ModelError when the
    diagram cannot be loaded at all (its problems say why)."""
    key = validation.content_key(text, forms_text)
    with _KEPT_LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key]
    outcomes = run_all(validation.load(text, forms_text))
    with _KEPT_LOCK:
        _KEPT[key] = outcomes
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)
    return outcomes


KEPT = 16
_KEPT: OrderedDict[str, list[Outcome]] = OrderedDict()
_KEPT_LOCK = threading.Lock()


def run_story(model: ProcessModel, story: Story, now: datetime) -> Outcome:
    outcome = Outcome(story)
    ctx = operations.Context(now=now)
    try:
        run = Run.start(model, ctx, {"incident": dict(story.registration["incident"])})
        start = run.ready_tasks()
        if not start or not _complete(outcome, run, start[0], story.registration):
            return (
                outcome
                if outcome.reason
                else _stuck(outcome, run, None, Message(N_("no task waits for the registration")))
            )
        for step in story.steps:
            if not _step(outcome, run, step):
                return outcome
    except (WorkflowException, EngineError) as error:
        return _failed(outcome, error)
    finals = {"closed": "closed", "transferred": "transferred"}
    if any(event.kind == finals[story.ends] for event in ctx.events):
        outcome.reached = True
        outcome.waiting = _waiting(run)
        return outcome
    return _stuck(outcome, run, None, Message(NOT_ENDED[story.ends]))


def _step(outcome: Outcome, run: Run, step: Step) -> bool:
    if step.signal:
        payload = {**step.data, "source": "handler", "by": "dry run", "stage": "first_line"}
        before = {t.id for t in _completed(run)}
        try:
            run.signal(step.signal, payload)
        except EngineError:
            text = N_("the application throws the signal '%(signal)s' here, but nothing catches it now")
            _stuck(outcome, run, None, Message(text, {"signal": step.signal}))
            return False
        outcome.path += [t.task_spec.bpmn_id for t in _completed(run) if t.id not in before and _is_step(t)]
        return True
    task = next((t for t in run.ready_tasks() if step.variable in _writes(run.model, t)), None)
    if task is None:
        text = N_("the story would now answer a task whose form writes '%(variable)s', but no such task is waiting")
        _stuck(outcome, run, None, Message(text, {"variable": step.variable}))
        return False
    return _complete(outcome, run, task, step.data)


def _complete(outcome: Outcome, run: Run, task: ReadyTask, data: Mapping[str, Any]) -> bool:
    if len(outcome.path) >= MAX_ANSWERS:
        _stuck(outcome, run, task.spec_id, Message(N_("the process keeps asking: %(count)s tasks answered"),
                                                   {"count": MAX_ANSWERS}))  # fmt: skip
        return False
    schema, _ui = run.model.form(task.spec_id)
    try:
        clean = forms.validate(schema, data)
    except forms.FormErrors as error:
        field_name, message = next(iter(error.errors.items()))
        text = N_("the form refuses the story's answer (%(field)s: %(error)s)")
        _stuck(outcome, run, task.spec_id, Message(text, {"field": field_name or "—", "error": message}))
        return False
    before = {t.id for t in _completed(run)}
    run.complete(task.id, clean)
    outcome.path.append(task.spec_id)
    outcome.path += [t.task_spec.bpmn_id for t in _completed(run) if t.id not in before and _is_step(t)]
    return True


def _writes(model: ProcessModel, task: ReadyTask) -> set[str]:
    schema, _ui = model.form(task.spec_id)
    return set(schema.get("properties", {}))


def _completed(run: Run) -> list[Any]:
    return run.workflow.get_tasks(state=TaskState.COMPLETED)


def _is_step(task: Any) -> bool:
    """A service task or an end event: what the path passes besides the tasks answered."""
    spec = task.task_spec
    return bool(spec.bpmn_id) and type(spec).__name__ in STEP_TYPES and not spec.manual


def _waiting(run: Run) -> list[str]:
    tasks = [task.spec_id for task in run.ready_tasks()]
    timers = [
        task.task_spec.bpmn_id
        for task in run.workflow.get_tasks(state=TaskState.WAITING)
        if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)
    ]
    return tasks + sorted(set(timers))


def _stuck(outcome: Outcome, run: Run | None, element_id: str | None, reason: Message) -> Outcome:
    outcome.waiting = _waiting(run) if run is not None else []
    outcome.stuck_at = element_id or next(iter(outcome.waiting), None)
    outcome.reason = reason
    return outcome


def _failed(outcome: Outcome, error: Exception) -> Outcome:
    """The engine failed at an element (an expression or operation that cannot run there)."""
    spec = getattr(getattr(error, "task", None), "task_spec", None) or getattr(error, "task_spec", None)
    outcome.stuck_at = getattr(spec, "bpmn_id", None)
    detail = getattr(error, "message", None) or str(error)
    outcome.reason = Message(N_("the engine failed here: %(error)s"), {"error": str(detail)})
    return outcome
