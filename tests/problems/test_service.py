"""Problem tickets through their service: owner, status, workaround, audit rows, and the links
between tickets and incidents both ways."""

from __future__ import annotations

import pytest

from app.incidents.errors import InvalidInput, PermissionDenied
from app.models import ProblemTicket
from app.problems.service import ProblemService, link, tickets_of_incident
from tests.driver import registration


@pytest.fixture
def problems(db, clock):
    return ProblemService(db)  # utcnow, under the frozen clock


def ticket_for(db, *incident_ids) -> int:
    with db.transaction() as session:
        ticket = ProblemTicket(incident_id=incident_ids[0], title="计费接口反复超时", created_by="sunli")
        session.add(ticket)
        session.flush()
        link(session, ticket, list(incident_ids))
        return ticket.id


def test_a_ticket_moves_through_its_lifecycle_with_an_owner_and_an_audit_row_each(desk, db, problems, actors):
    first, second = desk.register(registration(complaints=20)), desk.register(registration(complaints=20))
    ticket_id = ticket_for(db, first, second)
    manager, owner = actors["incident_manager"], actors["second_line_dev"]

    problems.update(manager, ticket_id, status="investigating", owner_id=owner.user_id, note="", workaround="")
    with pytest.raises(InvalidInput) as no_workaround:
        problems.update(manager, ticket_id, status="known_error", owner_id=owner.user_id, note="", workaround="")
    assert list(no_workaround.value.errors) == ["workaround"]
    problems.update(
        manager, ticket_id, status="known_error", owner_id=owner.user_id, note="", workaround="重启接口进程"
    )
    with pytest.raises(InvalidInput) as no_note:
        problems.update(manager, ticket_id, status="closed", owner_id=owner.user_id, note="", workaround="")
    assert list(no_note.value.errors) == ["note"]
    problems.update(manager, ticket_id, status="closed", owner_id=owner.user_id, note="根因已修复", workaround="")

    view = problems.view(ticket_id)
    assert (view.ticket.status, view.ticket.workaround, view.owner.id) == ("closed", "重启接口进程", owner.user_id)
    assert view.ticket.closed_at is not None
    assert [item.incident.id for item in view.incidents] == [first, second]  # raised from first, then linked
    rows = [data for kind, data in desk.audit(first) if kind == "problem_ticket_updated"]
    assert [row["changes"].get("status", {}).get("after") for row in rows] == ["investigating", "known_error", "closed"]
    assert rows[0]["changes"]["owner_id"] == {"before": None, "after": owner.user_id}
    assert rows[-1]["note"] == "根因已修复"

    with db.read() as session:  # and back: each incident names the ticket
        assert [t.id for t in tickets_of_incident(session, second)] == [ticket_id]


def test_only_the_incident_manager_changes_a_ticket(desk, db, problems, actors):
    ticket_id = ticket_for(db, desk.register(registration(complaints=20)))
    with pytest.raises(PermissionDenied):
        problems.update(actors["first_line"], ticket_id, status="investigating", owner_id=None, note="", workaround="")
    with pytest.raises(InvalidInput):  # an owner must be an active member of the team
        problems.update(actors["incident_manager"], ticket_id, status="open", owner_id=actors["requester"].user_id,
                        note="", workaround="")  # fmt: skip
    with pytest.raises(InvalidInput):  # nothing changed
        problems.update(actors["incident_manager"], ticket_id, status="open", owner_id=None, note="", workaround="")
