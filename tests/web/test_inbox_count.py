"""The inbox and the menu's badge are counted and listed in disjoint parts (mine; my roles' unclaimed;
kinds my roles also work; requester tasks the service desk confirms on the requester's behalf): every
task counted and listed once, none missed, in the inbox's order on every page, whatever mix of
claimed, unclaimed and on-behalf tasks, with and without a deadline, is open."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.engine.lanes import ALSO_WORKED_BY, LANES, SERVICE_DESK
from app.live import service as live
from app.models import OpenTask
from app.users import actor_of, create_user
from app.web import queries
from app.web.paging import COUNT_CAP
from tests.conftest import FAST_HASH
from tests.driver import registration, resolved

ALL = queries.InboxFilter()
BADGE = re.compile(r'data-poll="\d+">([^<]*)</span>')


def _may_see(actor, task) -> bool:
    """The inbox as first written: one OR over every open task."""
    if task.assignee_id == actor.user_id:
        return True
    if task.assignee_id is not None:
        return False
    if task.candidate_role in actor.roles or actor.roles & set(ALSO_WORKED_BY.get(task.spec_id, ())):
        return True
    return SERVICE_DESK in actor.roles and LANES[task.lane].for_requester


def _mix(desk, service, actors):
    """Claimed, unclaimed and on-behalf tasks of every part; registrations without a deadline."""
    on_behalf = desk.register(registration("request"), requester=None)  # no account: the desk confirms
    own = desk.register(registration("request"))  # the requester's own confirmation: not the desk's
    for incident_id in (on_behalf, own):
        desk.complete("service_desk", incident_id, "initial_support", resolved())
    raised = [service.start(actors["requester"], incident={"title": f"营业厅无法开户 {n}", "description": "报错",
                                                            "contact": "13800000000"},
                            requester_id=actors["requester"].user_id) for n in range(3)]  # fmt: skip
    claimed = desk.task(raised[0], "register_incident")  # the service desk's kind, which first line also works
    service.claim(actors["first_line"], raised[0], claimed.id)
    desk.register(registration(complaints=20))
    return on_behalf, raised, claimed


def test_badge_and_inbox_count_claimed_unclaimed_and_on_behalf_tasks_once(desk, service, db, actors, as_role):
    on_behalf, raised, claimed = _mix(desk, service, actors)
    assert desk.task(on_behalf, "confirm_resolution").assignee_id is None
    with db.read() as session:
        tasks = list(session.scalars(select(OpenTask)))
        for role in ("service_desk", "first_line", "incident_manager", "second_line_dev"):
            actor = actors[role]
            expected = {task.id for task in tasks if _may_see(actor, task)}
            listed = {task.id for task in session.scalars(queries.inbox_query(actor, ALL, 0, 100)).unique()}
            assert listed == expected, role
            assert live.badge(session, actor) == len(expected), role  # no mentions, no recovery checks
    desk_ids = {task.id for task in tasks if _may_see(actors["service_desk"], task)}
    assert desk.task(on_behalf, "confirm_resolution").id in desk_ids and claimed.id not in desk_ids

    for role in ("service_desk", "first_line"):
        page = as_role(role).get("/inbox").get_data(as_text=True)
        expected = sum(_may_see(actors[role], task) for task in tasks)
        assert BADGE.search(page).group(1) == str(expected)
        assert page.count('name="task" value="') == expected
    mine = as_role("first_line").get("/inbox?mine=1").get_data(as_text=True)
    assert mine.count('name="task" value="') == 1 and f'value="{raised[0]}:{claimed.id}"' in mine


def _order(task) -> tuple:
    """The inbox's order: by deadline, those without one last, then created, then id."""
    return (task.due_at is None, task.due_at or task.created_at, task.created_at, task.id)


def test_the_inbox_lists_its_parts_merged_in_order_page_by_page(desk, service, db, actors, as_role, clock):
    """Each part read along its own index and cut at the page, merged: the same rows in the same order
    as one list of the OR sorted by deadline, whatever the page size and offset."""
    _on_behalf, raised, _claimed = _mix(desk, service, actors)
    clock.tick(60)
    for complaints in (5, 40):  # deadlines, and two at the same moment as others
        desk.register(registration(complaints=complaints))
    late = desk.register(registration(complaints=5))
    with db.transaction() as session:  # tasks without a deadline (a registration), one created after the dated ones
        for task in (desk.task(late, "initial_support"), desk.task(raised[1], "register_incident")):
            session.get(OpenTask, task.id).due_at = None
    with db.read() as session:
        tasks = list(session.scalars(select(OpenTask)))
        for role in ("service_desk", "first_line"):
            actor = actors[role]
            expected = [task.id for task in sorted(tasks, key=_order) if _may_see(actor, task)]
            assert len(expected) >= 3, role
            assert any(task.due_at is None for task in tasks if task.id in expected), role
            for limit in (1, 2, 3, len(expected)):
                listed = []
                for offset in range(0, len(expected) + limit, limit):
                    page = queries.inbox_query(actor, ALL, offset, limit)
                    listed += [task.id for task in session.scalars(page).unique()]
                assert listed == expected, (role, limit)
    desk_tasks = [task for task in sorted(tasks, key=_order) if _may_see(actors["service_desk"], task)]
    page = as_role("service_desk").get("/inbox").get_data(as_text=True)
    shown = re.findall(r'name="task" value="(\d+:[^"]+)"', page)
    assert shown == [f"{task.incident_id}:{task.id}" for task in desk_tasks]


def test_the_badge_says_more_than_the_cap(as_role, app):
    from app.live.service import badge_text

    with app.app_context():
        assert badge_text(COUNT_CAP) == str(COUNT_CAP)
        assert badge_text(COUNT_CAP + 1) == f"{COUNT_CAP}+"


def test_the_top_bar_counts_its_own_readers_tasks_among_accounts_of_the_same_roles(desk, service, db, actors):
    """Its statement is built once per set of roles, the reader bound when it runs: a task one desk
    account claimed counts for them only, whoever's menu was drawn first."""
    incident_id = desk.register(registration(complaints=20))
    with db.transaction() as session:
        colleague = actor_of(
            create_user(session, "desk2", "password123", ["service_desk"], "服务台二", hash_method=FAST_HASH)
        )
    with db.read() as session:
        assert live.top_bar(session, colleague, with_badge=True) == (1, 0)  # the unclaimed initial support
    service.claim(actors["service_desk"], incident_id, desk.task(incident_id, "initial_support").id)
    with db.read() as session:
        assert live.top_bar(session, colleague, with_badge=True) == (0, 0)
        assert live.top_bar(session, actors["service_desk"], with_badge=True) == (1, 0)
        assert live.badge(session, actors["service_desk"]) == 1 and live.badge(session, colleague) == 0
