"""Where the engine state lives: its own table, without the process spec, read and written once per
action; the incident row updated once; lists and pages never read it."""

from __future__ import annotations

import json

from tests.driver import pass_on, registration
from tests.sql import statements, touching


def test_an_action_reads_and_writes_the_state_once_and_updates_the_incident_once(desk, db, service, actors):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    with statements() as sent:
        service.complete_task(actors["service_desk"], incident_id, task.id, pass_on("first_line"))
    assert len(touching(sent, "SELECT", "incident_states")) == 1
    assert len(touching(sent, "UPDATE", "incident_states")) == 1
    assert len(touching(sent, "UPDATE", "incidents")) == 1
    assert touching(sent, "SELECT", "process_versions") == []  # the parsed model is cached by version id
    # the incident locked with its state; its open tasks with the audit chain's lock and head, the ids
    # of the audit rows, and what the report roll-ups remember of the chain and the incident's per-day
    # counters are made of; the step's pool with their roles and notification choices; and on
    # PostgreSQL one batch of the writes nothing reads back (the audit rows, the incident row and its
    # open-task rows, state, roll-ups and their memory, search texts, notifications, the counters per
    # day and month: app/writes.py), sent one by one elsewhere
    assert len(sent) <= (4 if db.is_postgresql else 20), "\n".join(sent)
    assert desk.open_specs(incident_id) == ["first_line_handling"]


def test_the_stored_state_holds_no_process_spec(desk, db):
    incident_id = desk.register(registration(complaints=20))
    document = json.loads(desk.state(incident_id))
    assert "spec" not in document and "subprocess_specs" not in document
    (handling,) = document["subprocesses"].values()  # the running "事件处理" round
    assert "initial_support" in {task["task_spec"] for task in handling["tasks"].values()}
    assert len(desk.state(incident_id).encode()) < 40_000  # the spec alone was ~57 KB
