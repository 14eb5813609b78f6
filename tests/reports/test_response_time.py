"""Response time (spec §4.3, revised 2026-11-30): raised → registered, raised → first handling step;
the wait for a change (等待变更)."""

from __future__ import annotations

from datetime import timedelta

from tests.reports.reference import first_steps, response_times_of, waits
from tests.reports.rows import T, Trail

TARGET = timedelta(minutes=15)


def at(hours: float):
    return T + timedelta(hours=hours)


def test_the_first_claim_or_completion_of_a_handling_step_counts():
    trail = Trail()
    trail.add(1, 0.0, "task_completed", spec_id="register_incident")  # registration is not a handling step
    trail.add(1, 0.5, "task_claimed", spec_id="initial_support")
    trail.add(1, 0.7, "task_completed", spec_id="initial_support")
    trail.add(2, 0.2, "task_claimed", spec_id="notify_fault")  # nor is the fault notification
    trail.add(2, 1.0, "task_completed", spec_id="coordinate_emergency")
    trail.add(3, 0.1, "dispatched", stage="first_line")  # a hand-over is not taking it up
    assert first_steps(trail.rows) == {1: at(0.5), 2: at(1.0)}


def test_time_to_register_counts_portal_incidents_and_the_target_boundary():
    incidents = [
        (1, at(0), at(0.25)),  # registered exactly at the 15-minute target: within
        (2, at(0), at(0.25) + timedelta(seconds=1)),  # one second late
        (3, at(0), at(0)),  # raised by the desk itself: registered at once, not counted
    ]
    result = response_times_of(incidents, {1: at(1), 3: at(0.5)}, TARGET)
    assert (result.to_register.count, result.registered_in_target) == (2, 1)
    assert result.to_register.max_hours == 0.25
    # raised → first step, also for the desk's own (no wait for registration)
    assert (result.to_first_step.count, result.to_first_step.mean_hours) == (2, 0.75)


def test_no_incidents_give_empty_rows():
    result = response_times_of([], {}, TARGET)
    assert (result.to_register.count, result.to_register.mean_hours, result.registered_in_target) == (0, None, 0)


def test_a_change_wait_runs_from_the_transfer_to_the_return_in_the_period():
    trail = Trail()
    trail.add(1, 0, "transferred")
    trail.add(1, 30, "change_returned")  # 30 h, in the period
    trail.add(1, 31, "transferred")  # a second transfer of the same incident: a second wait
    trail.add(1, 33, "change_returned")
    trail.add(2, 1, "transferred")  # still waiting: no figure yet
    trail.add(3, -10, "transferred")
    trail.add(3, -2, "change_returned")  # back before the period
    assert waits(trail.rows, at(0), at(40)) == [30.0, 2.0]
