"""An incident that lives long — reopened again and again, facts added, tracking requested — keeps
working: its stored state stays the size it had after a few actions (app/engine/prune.py), and it
still resolves and closes as any other. Before pruning, such an incident broke at its ~180th action."""

from __future__ import annotations

import pytest

from app.incidents import state
from tests.driver import pass_on, registration, resolved

# Three actions a round: over 500 actions on one incident on SQLite. On PostgreSQL 70 rounds (217 actions),
# past the ~180th where the incident broke before pruning: what grows is the engine's state, the same text
# on either database, and another 300 actions there cost the suite about a minute (docs/bench.md).
ROUNDS = {"sqlite": 170, "postgresql": 70}


def stored_size(db, incident_id: int) -> int:
    with db.read() as session:
        return len(state.text_of(session, incident_id))


@pytest.mark.long
def test_five_hundred_actions_on_one_incident(desk, db, service, actors):
    rounds = ROUNDS[db.engine.dialect.name]
    incident_id = desk.register(registration(complaints=20))
    service.complete_task(actors["service_desk"], incident_id, desk.task(incident_id, "initial_support").id,
                          pass_on("first_line"))  # fmt: skip
    service.forward_for_tracking(actors["first_line"], incident_id, "请事件经理跟踪")
    sizes = []
    for round_ in range(rounds):
        task = desk.task(incident_id, "first_line_handling")
        service.complete_task(actors["first_line"], incident_id, task.id, resolved())
        confirmation = {"confirmation": {"resolved": False, "comment": f"第{round_ + 1}次：仍有报错"}}
        service.complete_task(actors["requester"], incident_id, desk.task(incident_id, "confirm_resolution").id,
                              confirmation)  # fmt: skip
        service.add_facts(actors["first_line"], incident_id, {"note": "投诉增加", "complaints": 21 + round_ % 5})
        if round_ in (1, rounds - 1):
            sizes.append(stored_size(db, incident_id))
    assert sizes[1] <= sizes[0] * 1.05, sizes
    assert desk.audit_kinds(incident_id).count("reopened") == rounds
    assert desk.incident(incident_id).reopen_count == rounds

    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    desk.complete("incident_manager", incident_id, "track_incident", {"tracking": {"action": "following"}})
    desk.complete("service_desk", incident_id, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    assert desk.incident(incident_id).status == "closed" and desk.open_specs(incident_id) == []
