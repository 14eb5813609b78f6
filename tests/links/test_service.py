"""Links between incidents and major incidents' children, through the service on a real database."""

from __future__ import annotations

import pytest

from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from app.links import service as links
from app.links.service import CAUSED_BY, DUPLICATE_OF, PART_OF, RELATED_TO
from tests.driver import pass_on, registration, resolved


def storm(desk, count: int = 2) -> tuple[int, list[int]]:
    """A major incident and `count` children, all waiting at the desk's initial support."""
    parent = desk.register(registration())
    children = [desk.register(registration()) for _ in range(count)]
    for child in children:
        links.link(desk.service, desk.actors["service_desk"], child, PART_OF, parent)
    return parent, children


def test_links_read_from_both_ends_and_are_audited(desk, service, actors, db):
    a, b, c = (desk.register(registration()) for _ in range(3))
    links.link(service, actors["first_line"], a, DUPLICATE_OF, b)
    links.link(service, actors["first_line"], c, CAUSED_BY, a)
    with db.read() as session:
        of_a = links.links_of(session, a)
        of_b = links.links_of(session, b)
    assert [(row.kind, other.id) for row, other in of_a.outgoing] == [(DUPLICATE_OF, b)]
    assert [(row.kind, other.id) for row, other in of_a.incoming] == [(CAUSED_BY, c)]
    assert [(row.kind, other.id) for row, other in of_b.incoming] == [(DUPLICATE_OF, a)]
    assert ("incident_linked", {"link": DUPLICATE_OF, "direction": "to", "other_id": a, "other": f"INC{a:06d}"}) in \
        desk.audit(b)  # fmt: skip
    row = of_a.outgoing[0][0]
    links.unlink(service, actors["first_line"], a, row.id)
    with db.read() as session:
        assert links.links_of(session, b).incoming == []
    assert desk.audit(b)[-1][0] == "incident_unlinked"


def test_refused_links(desk, service, actors):
    a, b, c = (desk.register(registration()) for _ in range(3))
    with pytest.raises(InvalidInput):
        links.link(service, actors["first_line"], a, RELATED_TO, a)
    with pytest.raises(InvalidInput):
        links.link(service, actors["first_line"], a, RELATED_TO, 999_999)
    with pytest.raises(InvalidInput):
        links.link(service, actors["first_line"], a, "sibling_of", b)
    with pytest.raises(PermissionDenied):
        links.link(service, actors["leadership"], a, RELATED_TO, b)
    links.link(service, actors["first_line"], a, RELATED_TO, b)
    with pytest.raises(InvalidInput):  # either way round, once
        links.link(service, actors["first_line"], b, DUPLICATE_OF, a)
    links.link(service, actors["first_line"], c, PART_OF, a)
    with pytest.raises(InvalidInput):  # one level: a child cannot be a parent
        links.link(service, actors["first_line"], b, PART_OF, c)
    with pytest.raises(InvalidInput):  # a parent cannot become a child
        links.link(service, actors["first_line"], a, PART_OF, b)
    d = desk.register(registration())
    with pytest.raises(InvalidInput):  # one parent
        links.link(service, actors["first_line"], c, PART_OF, d)


def test_resolving_the_children_with_the_parents_solution(desk, service, actors, db):
    parent, (first, second) = storm(desk)
    with pytest.raises(Conflict):  # nothing to copy yet
        links.resolve_children(service, actors["service_desk"], parent)
    desk.complete("service_desk", parent, "initial_support", resolved(text="更换了故障交换机"))
    desk.complete("service_desk", second, "initial_support", pass_on("first_line"))  # now first line's step
    results = links.resolve_children(service, actors["service_desk"], parent)
    assert [(r.incident_id, r.done) for r in results] == [(first, True), (second, False)]
    assert results[1].reason.params == {"task": "一线尝试解决"} and "not yours" in results[1].reason.text
    assert desk.incident(first).status == "resolved"
    kind, data = [item for item in desk.audit(first) if item[0] == "resolved"][-1]
    assert data["text"] == "更换了故障交换机"
    # the step's owner resolves the rest, from the same parent
    results = links.resolve_children(service, actors["first_line"], parent)
    assert [(r.incident_id, r.done) for r in results] == [(first, False), (second, True)]
    assert results[0].reason.text == "Already resolved."


def test_a_child_not_registered_yet_is_refused_with_the_reason(desk, service, actors):
    parent = desk.register(registration(solved=True))
    fields = {"title": "又一个投诉", "description": "同上", "contact": "李娜", "source": "portal"}
    child = service.start(actors["requester"], incident=fields, requester_id=actors["requester"].user_id)
    links.link(service, actors["service_desk"], child, PART_OF, parent)
    (result,) = links.resolve_children(service, actors["service_desk"], parent)
    assert not result.done and "Not registered" in result.reason.text
