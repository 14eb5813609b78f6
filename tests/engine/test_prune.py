"""Pruning keeps the instance's behaviour: the same path driven through a pruned instance (saved and
loaded after every step, as the service does) and through an untouched one kept in memory gives the
same ready tasks with the same data, the same timers and the same operations, step by step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from app import forms
from app.engine import operations
from app.engine.runtime import Run
from app.engine.script_engine import SafeScriptEngine
from app.forms import read_form_files
from app.models import utcnow
from app.process import validation, versions
from tests.conftest import T0
from tests.driver import pass_on, registration, resolved

RAISED_WITH = {"incident": {"title": "计费接口超时", "description": "营业厅反馈缴费后余额不更新"}}


@pytest.fixture(scope="module")
def model():
    return validation.load(versions.BUNDLED_DIAGRAM.read_text(encoding="utf-8"), read_form_files())


class Twins:
    """One path, two instances: `plain` as SpiffWorkflow leaves it, `pruned` stored and loaded again
    (pruned on every save) after each step."""

    def __init__(self, model):
        self.model = model
        self.plain = Run.start(model, operations.Context(utcnow()), RAISED_WITH)
        self.pruned = Run.load(model, Run.start(model, operations.Context(utcnow()), RAISED_WITH).dump(), self._fresh())

    @staticmethod
    def _fresh() -> operations.Context:
        return operations.Context(utcnow())

    def step(self, action: str, *args) -> None:
        emitted = []
        for run in (self.plain, self.pruned):
            context = self._fresh()
            run.context, run.workflow.script_engine = context, SafeScriptEngine(context)
            run.advance()  # timers that fell due, as every action starts
            if action == "complete":
                spec_id, data = args
                (task,) = [task for task in run.ready_tasks() if task.spec_id == spec_id]
                run.complete(task.id, forms.validate(self.model.form(spec_id)[0], data))
            elif action == "signal":
                run.signal(*args)
            emitted.append([(event.kind, event.data) for event in context.events])
        self.pruned = Run.load(self.model, self.pruned.dump(), self._fresh())
        assert emitted[0] == emitted[1]
        assert _ready(self.pruned) == _ready(self.plain)
        assert self.pruned.next_timer_due() == self.plain.next_timer_due()
        assert self.pruned.workflow.is_completed() == self.plain.workflow.is_completed()
        assert self.pruned.workflow.task_tree.data == self.plain.workflow.task_tree.data  # what it was raised with

    def open_specs(self) -> list[str]:
        return sorted(task.spec_id for task in self.pruned.ready_tasks())


def _ready(run: Run) -> list:
    return sorted((task.spec_id, task.lane, repr(task.data), task.due) for task in run.ready_tasks())


def facts(**changes) -> tuple:
    return ("case_updated", {"facts": changes, "note": "新情况", "source": "handler", "by": "一线"})


def test_every_path_of_the_diagram_behaves_the_same_pruned(model):
    with freeze_time(T0) as clock:
        twins = Twins(model)
        twins.step("complete", "register_incident", registration(complaints=20))
        twins.step("complete", "initial_support", pass_on("first_line"))
        twins.step("signal", "tracking_requested", {"note": "请跟踪", "by": "一线", "stage": "first_line"})
        twins.step("signal", *facts(complaints=25))  # interrupts the handling: a new round
        twins.step("complete", "first_line_handling", pass_on("second_line", "development"))
        clock.tick(timedelta(hours=20))  # past the deadline warning
        twins.step("advance")
        assert "follow_up_warning" in twins.open_specs()
        twins.step("complete", "follow_up_warning", {"follow_up": {"action": "coordinated"}})
        twins.step("complete", "second_line_handling", resolved())
        twins.step("complete", "confirm_resolution", {"confirmation": {"resolved": False, "comment": "仍有报错"}})
        twins.step("signal", *facts(designated_emergency=True, core_business_affected=True))
        assert "coordinate_emergency" in twins.open_specs()
        announce = {"handling": {"outcome": "announce", "announcement": "计费系统故障处理中"}}
        twins.step("complete", "coordinate_emergency", announce)
        if "notify_fault" in twins.open_specs():
            notification = {"channels": ["sms"], "recipients": "全体", "content": "计费故障"}
            twins.step("complete", "notify_fault", {"notification": notification})
        clock.tick(timedelta(hours=30))  # past the deadline itself
        twins.step("advance")
        twins.step("complete", "coordinate_emergency", resolved("workaround", "切换备用接口"))
        twins.step("complete", "track_incident", {"tracking": {"action": "following"}})
        twins.step("complete", "confirm_resolution", {"confirmation": {"resolved": True}})
        twins.step("complete", "close_incident", {"closure": {"code": "workaround", "follow_up": "problem",
                                                              "follow_up_title": "接口不稳定"}})  # fmt: skip
        for spec_id in [spec for spec in twins.open_specs() if spec.startswith("follow_up")]:
            twins.step("complete", spec_id, {"follow_up": {"action": "accepted"}})
        assert twins.pruned.workflow.is_completed()


@pytest.mark.long
def test_a_long_incident_keeps_the_same_state_size(model):
    with freeze_time(T0):
        run = Run.start(model, operations.Context(utcnow()), RAISED_WITH)
        sizes, tasks = [], []

        def act(spec_id: str, data: dict) -> None:
            nonlocal run
            run = Run.load(model, run.dump(), operations.Context(utcnow()))
            (task,) = [task for task in run.ready_tasks() if task.spec_id == spec_id]
            run.complete(task.id, forms.validate(model.form(spec_id)[0], data))

        act("register_incident", registration(complaints=20))
        act("initial_support", pass_on("first_line"))
        for loop in range(300):  # 600 actions: far past the ~180 at which the unpruned tree broke
            act("first_line_handling", resolved())
            act("confirm_resolution", {"confirmation": {"resolved": False, "comment": f"第{loop}次仍未解决"}})
            if loop in (2, 299):
                sizes.append(len(run.dump()))
                tasks.append(len(run.workflow.tasks) + sum(len(sp.tasks) for sp in run.workflow.subprocesses.values()))
    assert sizes[1] <= sizes[0] * 1.05 and tasks[1] == tasks[0]


def test_a_fault_notification_and_its_time_limit_behave_the_same_pruned(model):
    with freeze_time(T0) as clock:
        twins = Twins(model)
        twins.step("complete", "register_incident", registration(complaints=50))  # yellow: notify within 30 min
        assert twins.open_specs() == ["initial_support", "notify_fault"]
        clock.tick(timedelta(minutes=40))  # past the notification window: reported late, re-classified
        twins.step("advance")
        twins.step("complete", "initial_support", pass_on("first_line"))
        notification = {"channels": ["sms"], "recipients": "全体营业厅", "content": "计费故障"}
        twins.step("complete", "notify_fault", {"notification": notification})
        twins.step("complete", "first_line_handling", resolved())
        twins.step("complete", "confirm_resolution", {"confirmation": {"resolved": True}})
        twins.step("complete", "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
        assert twins.pruned.workflow.is_completed()
