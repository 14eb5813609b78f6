"""Bulk actions: each incident on its own, done or refused with the reason, each audited."""

from __future__ import annotations

import pytest

from app.bulk import service as bulk
from app.incidents.service import InvalidInput
from app.links import service as links
from tests.driver import registration


def test_assign_each_task_with_its_own_answer(desk, service, actors):
    a, b = desk.register(registration()), desk.register(registration())
    tasks = [(a, desk.task(a, "initial_support").id), (b, desk.task(b, "initial_support").id)]
    service.claim(actors["service_desk"], b, tasks[1][1])  # held by the desk itself: still theirs to pass on
    results = bulk.assign(service, actors["service_desk"], tasks, actors["first_line"].user_id)
    assert [(r.incident_id, r.done) for r in results] == [(a, False), (b, False)]
    assert "does not have the role" in results[0].reason.text  # first line cannot take the desk's step
    with desk.db.transaction() as session:
        from app.users import create_user
        from tests.conftest import FAST_HASH

        colleague = create_user(session, "desk2", "password123", ["service_desk"], hash_method=FAST_HASH)
    results = bulk.assign(service, actors["service_desk"], tasks, colleague.id)
    assert [r.done for r in results] == [True, True]
    assert [kind for kind, _ in desk.audit(a)].count("task_assigned") == 1
    assert [kind for kind, _ in desk.audit(b)].count("task_assigned") == 1


def test_link_many_to_a_major_incident(desk, service, actors, db):
    parent, a, b = (desk.register(registration()) for _ in range(3))
    links.link(service, actors["first_line"], b, "part_of", a)  # b is already a child (of a)
    results = bulk.link_to_parent(service, actors["first_line"], [a, b, parent], parent)
    assert [(r.incident_id, r.done) for r in results] == [(a, False), (b, False), (parent, False)]
    assert "children of its own" in results[0].reason.text
    assert "already part" in results[1].reason.text and "itself" in results[2].reason.text
    c = desk.register(registration())
    (result,) = bulk.link_to_parent(service, actors["first_line"], [c, c], parent)  # once, however often chosen
    assert result.done
    with db.read() as session:
        assert [child.id for child in links.links_of(session, parent).children] == [c]


def test_close_duplicates(desk, service, actors):
    original, a, b = (desk.register(registration()) for _ in range(3))
    desk.complete("service_desk", b, "initial_support", {"handling": {"outcome": "resolved", "solution_kind":
                  "resolved", "solution": "已修复"}})  # fmt: skip
    results = bulk.close_duplicates(service, actors["service_desk"], [a, b, original], original)
    assert [(r.incident_id, r.done) for r in results] == [(a, True), (b, False), (original, False)]
    incident = desk.incident(a)
    assert (incident.status, incident.closure_code) == ("closed", "duplicate") and desk.open_specs(a) == []
    assert [kind for kind, _ in desk.audit(a)][-3:] == ["incident_linked", "closed_as_duplicate", "task_withdrawn"]
    assert "closes an open incident" in results[1].reason.text
    first_line = bulk.close_duplicates(service, actors["first_line"], [desk.register(registration())], original)
    assert not first_line[0].done  # nor is anything linked on the way
    assert [kind for kind, _ in desk.audit(first_line[0].incident_id)].count("incident_linked") == 0
    with pytest.raises(InvalidInput):
        bulk.close_duplicates(service, actors["service_desk"], [a], 999_999)
