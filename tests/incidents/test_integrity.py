"""Bad input and concurrent edits: a clear error, nothing lost, nothing half-written."""

from __future__ import annotations

import threading

import pytest

from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from tests.driver import pass_on, registration, resolved


def snapshot(desk, incident_id):
    incident = desk.incident(incident_id)
    return incident.lock_version, desk.state(incident_id), len(desk.audit(incident_id)), desk.open_specs(incident_id)


def test_invalid_form_names_each_field_and_changes_nothing(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    before = snapshot(desk, incident_id)
    task = desk.task(incident_id, "initial_support")
    with pytest.raises(InvalidInput) as error:
        service.complete_task(actors["service_desk"], incident_id, task.id, {"handling": {"outcome": "resolved"}})
    assert {path: str(message) for path, message in error.value.errors.items()} == {
        "handling.solution_kind": "Required",
        "handling.solution": "Required",
    }
    with pytest.raises(InvalidInput) as error:
        service.complete_task(actors["service_desk"], incident_id, task.id, {"handling": {"outcome": "teleport"}})
    assert {path: str(message) for path, message in error.value.errors.items()} == {
        "handling.outcome": "Choose one of the options"
    }
    assert snapshot(desk, incident_id) == before


def test_registration_with_bad_facts_creates_nothing(desk, service, actors):
    data = registration(affected_users=-5)
    with pytest.raises(InvalidInput) as error:
        service.start(actors["service_desk"], incident=data["incident"], registration=data)
    assert "facts.affected_users" in error.value.errors
    data = registration(affected_users=900_000, total_users=500_000)  # passes the form, refused by the rules
    with pytest.raises(InvalidInput) as error:
        service.start(actors["service_desk"], incident=data["incident"], registration=data)
    assert "affected users (900000) cannot exceed" in str(error.value)
    from sqlalchemy import func, select

    from app.models import AuditEvent, Incident

    with desk.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
        assert session.scalar(select(func.count()).where(AuditEvent.incident_id.is_not(None))) == 0


def test_facts_the_rules_refuse_roll_back_the_whole_action(desk, service, actors):
    incident_id = desk.register(registration(complaints=20, total_users=800_000))
    before = snapshot(desk, incident_id)
    with pytest.raises(InvalidInput):
        service.add_facts(actors["service_desk"], incident_id, {"note": "x", "affected_users": 900_000})
    assert snapshot(desk, incident_id) == before


def test_only_candidates_work_a_task(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    for role in ("first_line", "requester", "auditor", "leadership", "second_line_dev"):
        with pytest.raises(PermissionDenied):
            service.complete_task(actors[role], incident_id, task.id, resolved())
    service.claim(actors["service_desk"], incident_id, task.id)
    with pytest.raises(PermissionDenied):
        service.add_facts(actors["requester"], incident_id, {"note": "x", "complaints": 30})
    with pytest.raises(PermissionDenied):
        service.add_facts(actors["first_line"], incident_id, {"note": "x", "designated_emergency": True})


def test_claim_release_and_reassignment(desk, service, actors, db):
    from app.users import create_user
    from tests.conftest import FAST_HASH

    with db.transaction() as session:
        colleague = create_user(
            session, "desk2", "password123", ["service_desk"], "另一位服务台", hash_method=FAST_HASH
        )
        colleague_id = colleague.id
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    service.claim(actors["service_desk"], incident_id, task.id)
    with pytest.raises(Conflict):
        service.claim(actors["incident_manager"], incident_id, task.id)
    with pytest.raises(InvalidInput):  # first line cannot be given a service-desk task
        service.assign(actors["service_desk"], incident_id, task.id, actors["first_line"].user_id)
    service.assign(actors["service_desk"], incident_id, task.id, colleague_id)
    assert desk.incident(incident_id).current_assignees == "另一位服务台"
    with pytest.raises(PermissionDenied):  # claimed by a colleague now
        service.complete_task(actors["service_desk"], incident_id, task.id, resolved())
    service.assign(actors["incident_manager"], incident_id, task.id, actors["service_desk"].user_id)
    service.release(actors["service_desk"], incident_id, task.id)
    assert desk.task(incident_id, "initial_support").assignee_id is None
    kinds = desk.audit_kinds(incident_id)
    assert kinds[-4:] == ["task_claimed", "task_assigned", "task_assigned", "task_released"]


def test_completing_an_already_completed_task_is_a_conflict(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    service.complete_task(actors["service_desk"], incident_id, task.id, pass_on("first_line"))
    with pytest.raises(Conflict, match="already been completed"):
        service.complete_task(actors["service_desk"], incident_id, task.id, pass_on("first_line"))


def run_at_once(*actions):
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def runner(index, action):
        barrier.wait()
        try:
            action()
            outcomes[index] = "ok"
        except Conflict:
            outcomes[index] = "conflict"

    threads = [threading.Thread(target=runner, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_people_completing_the_same_task_at_once(desk, service, actors, db):
    from app.users import create_user
    from tests.conftest import FAST_HASH

    with db.transaction() as session:
        other = create_user(session, "desk2", "password123", ["service_desk"], hash_method=FAST_HASH)
        from app.users import actor_of

        colleague = actor_of(other)
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    outcomes = run_at_once(
        lambda: service.complete_task(actors["service_desk"], incident_id, task.id, pass_on("first_line")),
        lambda: service.complete_task(colleague, incident_id, task.id, pass_on("second_line", "test")),
    )
    assert outcomes == ["conflict", "ok"]
    completions = [data for kind, data in desk.audit(incident_id) if kind == "task_completed"]
    assert len(completions) == 2  # the registration and exactly one of the two
    assert desk.open_specs(incident_id) in (["first_line_handling"], ["second_line_handling"])  # the winner's
    desk.assert_round_trip(incident_id)


def test_concurrent_edits_of_one_instance(desk, service, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    task = desk.task(incident_id, "first_line_handling")
    outcomes = run_at_once(
        lambda: service.complete_task(actors["first_line"], incident_id, task.id, resolved()),
        lambda: service.add_facts(actors["incident_manager"], incident_id, {"note": "更多投诉", "complaints": 30}),
    )
    assert outcomes in (["conflict", "ok"], ["ok", "ok"])  # serialized: the second may still apply
    desk.assert_round_trip(incident_id)
    from app.audit import audit_key
    from app.audit.verification import verify

    with desk.db.read() as session:
        assert verify(session, audit_key(session)).ok


def test_an_action_over_the_engine_step_budget_is_refused_and_writes_nothing(desk, service, actors, monkeypatch, db):
    from sqlalchemy import func, select

    from app.engine import runtime
    from app.incidents.service import ServiceError
    from app.models import AuditEvent, Incident

    incident_id = desk.register(registration(complaints=20))
    before = snapshot(desk, incident_id)
    monkeypatch.setattr(runtime, "MAX_STEPS", 3)  # as a diagram that loops without waiting would run out
    task = desk.task(incident_id, "initial_support")
    with pytest.raises(ServiceError, match="without reaching a task that waits"):
        service.complete_task(actors["service_desk"], incident_id, task.id, pass_on("first_line"))
    with pytest.raises(ServiceError, match="without reaching a task that waits"):
        desk.register(registration())
    assert snapshot(desk, incident_id) == before
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert (
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.incident_id != incident_id))
            == 0
        )


def test_only_an_active_requester_can_be_made_the_requester(desk, service, actors, db):
    from app.models import Incident

    for who in ("auditor", "service_desk"):
        with pytest.raises(InvalidInput) as error:
            desk.register(registration("request"), requester=who)
        assert set(error.value.errors) == {"requester_id"}
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    with db.transaction() as session:  # an incident that names someone who is no (longer a) requester
        session.get(Incident, incident_id).requester_id = actors["auditor"].user_id
    task = desk.task(incident_id, "confirm_resolution")
    with pytest.raises(PermissionDenied):
        service.complete_task(actors["auditor"], incident_id, task.id, {"confirmation": {"resolved": True}})
