"""Waiting and working time of completed tasks, per person and per group, from audit rows (pure)."""

from __future__ import annotations

from datetime import timedelta

from app.reports.workload import GroupWorkload, PersonWorkload, group_rows, person_rows
from tests.reports.reference import group_totals, person_totals, task_spans
from tests.reports.rows import T, Trail

H = timedelta(hours=1)
ALICE = {"actor_id": 10, "actor_name": "Alice", "actor_role": "first_line"}
BOB = {"actor_id": 11, "actor_name": "Bob", "actor_role": "first_line,second_line_dev"}


def times(spans):
    return [(span.spec_id, span.actor_name, span.waiting_hours, span.working_hours) for span in spans]


def test_parallel_tasks_each_start_at_their_own_trigger():
    t = Trail()
    t.add(1, 0, "classified", notification_duty=True)
    t.add(1, 0, "dispatched", stage="first_line")
    t.add(1, 1, "task_claimed", task_id="n", spec_id="notify_fault", actor_id=12, actor_name="Mgr")
    t.add(1, 1.5, "task_completed", task_id="n", spec_id="notify_fault", actor_id=12, actor_name="Mgr")
    t.add(1, 2, "task_claimed", task_id="f", spec_id="first_line_handling", **ALICE)
    t.add(1, 4, "task_completed", task_id="f", spec_id="first_line_handling", **ALICE)
    # the previous row of the incident (the notification at +1.5) is not when first line's task became ready
    assert times(task_spans(t.rows)) == [("notify_fault", "Mgr", 1.0, 0.5), ("first_line_handling", "Alice", 2.0, 2.0)]


def test_release_and_reclaim_counts_from_the_first_claim_to_whoever_completes():
    t = Trail()
    t.add(1, 0, "dispatched", stage="first_line")
    t.add(1, 1, "task_claimed", task_id="f", spec_id="first_line_handling", **ALICE)
    t.add(1, 2, "task_released", task_id="f", spec_id="first_line_handling", **ALICE)
    t.add(1, 3, "task_assigned", task_id="f", spec_id="first_line_handling", actor_id=12, actor_name="Mgr")
    t.add(1, 5, "task_completed", task_id="f", spec_id="first_line_handling", **BOB)
    assert times(task_spans(t.rows)) == [("first_line_handling", "Bob", 1.0, 4.0)]


def test_never_claimed_means_all_working_from_ready():
    t = Trail()
    t.add(1, 0, "resolved", stage="first_line")
    t.add(1, 7, "task_completed", task_id="c", spec_id="confirm_resolution", actor_id=1, actor_name="Req")
    t.add(1, 8, "task_completed", task_id="x", spec_id="close_incident", actor_id=2, actor_name="Desk")
    spans = task_spans(t.rows)
    assert times(spans) == [("confirm_resolution", "Req", 0.0, 7.0), ("close_incident", "Desk", 0.0, 1.0)]
    assert spans[0].taken_at is None and spans[0].ready_at == T


def test_a_task_kind_unknown_to_the_table_starts_at_the_previous_row():
    t = Trail()
    t.add(1, 0, "dispatched", stage="first_line")
    t.add(1, 1, "custom_event")
    t.add(1, 1.5, "task_claimed", task_id="other", spec_id="first_line_handling", **ALICE)  # not this task's
    t.add(1, 2, "task_claimed", task_id="q", spec_id="quality_review", **ALICE)
    t.add(1, 5, "task_completed", task_id="q", spec_id="quality_review", **ALICE)
    t.add(2, 0, "task_completed", task_id="lonely", spec_id="quality_review", **BOB)  # nothing before it
    assert times(task_spans(t.rows)) == [("quality_review", "Bob", 0.0, 0.0), ("quality_review", "Alice", 1.0, 3.0)]


def test_person_and_group_totals():
    t = Trail()
    t.add(1, 0, "dispatched", stage="first_line")
    t.add(1, 1, "task_claimed", task_id="a", spec_id="first_line_handling", **ALICE)
    t.add(1, 3, "task_completed", task_id="a", spec_id="first_line_handling", **ALICE)  # 1 h + 2 h
    t.add(2, 0, "dispatched", stage="first_line")
    t.add(2, 4, "task_completed", task_id="b", spec_id="first_line_handling", **ALICE)  # 0 + 4 h
    t.add(3, 0, "dispatched", stage="second_line", group="development")
    t.add(3, 1, "task_completed", task_id="c", spec_id="second_line_handling", **BOB)  # 0 + 1 h
    spans = task_spans(t.rows)
    assert person_rows(person_totals(spans), {10: 2, 99: 1}, {99: ("Carol", "service_desk")}) == [
        PersonWorkload(10, "Alice", "first_line", 2, 1.0, 6.0, 0.5, 3.0, 2),
        PersonWorkload(11, "Bob", "first_line,second_line_dev", 1, 0.0, 1.0, 0.0, 1.0, 0),
        PersonWorkload(99, "Carol", "service_desk", 0, 0.0, 0.0, None, None, 1),
    ]
    members = {"first_line": 4, "first_line,second_line_dev": 1}  # headcounts: not who happened to complete tasks
    assert group_rows(group_totals(spans), {"first_line": (2, 3), "second_line_test": (0, 1)}, members) == [
        GroupWorkload("first_line", 4, 1, 2, 1.0, 6.0, 0.5, 3.0, 2, 3),
        GroupWorkload("first_line,second_line_dev", 1, 1, 1, 0.0, 1.0, 0.0, 1.0, 0, 0),
        GroupWorkload("second_line_test", 0, 0, 0, 0.0, 0.0, None, None, 0, 1),
    ]
    assert person_rows({}) == [] and group_rows({}) == []
