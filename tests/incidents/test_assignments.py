"""Open tasks of an account that is deactivated or loses a role go back to their group's pool."""

from __future__ import annotations

from app.audit import SYSTEM, Actor
from app.incidents import assignments
from app.models import User, utcnow
from app.users import update_user
from tests.driver import pass_on, registration, resolved


def change(db, role: str, *, roles=None, active=True) -> int:
    """Change the account named after `role` and release what it may no longer work; returns how many."""
    with db.transaction() as session:
        user = session.query(User).filter_by(username=role).one()
        update_user(session, user, display_name=user.display_name, roles=roles or sorted(user.roles), active=active)
        return assignments.release_for_account(session, user, SYSTEM, utcnow())


def test_a_deactivated_account_gives_back_its_tasks_audited(desk, db, actors):
    first = desk.register(registration(complaints=20))
    second = desk.register(registration(complaints=20))
    for incident_id in (first, second):
        desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
        desk.service.claim(actors["first_line"], incident_id, desk.task(incident_id, "first_line_handling").id)
    assert desk.incident(first).current_assignees == "first_line user"

    assert change(db, "first_line", active=False) == 2
    for incident_id in (first, second):
        assert desk.task(incident_id, "first_line_handling").assignee_id is None
        assert desk.incident(incident_id).current_assignees == ""
        kind, data = desk.audit(incident_id)[-1]
        assert kind == "task_released" and data["reason"] == "account_disabled"
        assert data["before"] == actors["first_line"].user_id
    assert change(db, "first_line", active=False) == 0  # nothing left to give back


def test_a_removed_role_gives_back_only_the_tasks_of_that_role(desk, db, actors):
    with db.transaction() as session:
        user = session.get(User, actors["first_line"].user_id)
        update_user(session, user, display_name=user.display_name, roles=["first_line", "service_desk"], active=True)
    desk_task = desk.register(registration(complaints=20))
    line_task = desk.register(registration(complaints=20))
    desk.complete("service_desk", line_task, "initial_support", pass_on("first_line"))
    both = Actor(actors["first_line"].user_id, "first_line user", frozenset({"first_line", "service_desk"}))
    desk.service.claim(both, desk_task, desk.task(desk_task, "initial_support").id)
    desk.service.claim(both, line_task, desk.task(line_task, "first_line_handling").id)

    assert change(db, "first_line", roles=["service_desk"]) == 1
    assert desk.task(desk_task, "initial_support").assignee_id == both.user_id
    assert desk.task(line_task, "first_line_handling").assignee_id is None
    assert desk.audit(line_task)[-1][1]["reason"] == "role_removed"


def test_a_deactivated_requester_leaves_the_confirmation_to_the_service_desk(desk, db, actors):
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    assert desk.task(incident_id, "confirm_resolution").assignee_id == actors["requester"].user_id
    assert change(db, "requester", active=False) == 1
    assert desk.task(incident_id, "confirm_resolution").assignee_id is None  # in the desk's inbox, on behalf


def test_tasks_left_with_accounts_that_may_no_longer_work_them_are_released_at_upgrade(desk, db, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.service.claim(actors["service_desk"], incident_id, desk.task(incident_id, "initial_support").id)
    with db.transaction() as session:  # deactivated before releases came with each change
        session.get(User, actors["service_desk"].user_id).active = False
    with db.transaction() as session:
        assert assignments.release_stranded(session, SYSTEM, utcnow()) == 1
    with db.transaction() as session:
        assert assignments.release_stranded(session, SYSTEM, utcnow()) == 0
    assert desk.task(incident_id, "initial_support").assignee_id is None
