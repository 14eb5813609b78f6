"""The audit log: one chained row per event; any edit, deletion or insertion is detected."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from app import audit
from app.audit import Actor
from tests.driver import pass_on, registration


def verify(db):
    with db.read() as session:
        return audit.verify(session)


def test_every_event_is_chained_with_actor_role_and_time(desk, db):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    with db.read() as session:
        events = audit.events_of(session, incident_id)
    assert [e.kind for e in events] == [
        "started", "task_completed", "classified", "dispatched", "task_completed", "dispatched",
    ]  # fmt: skip
    completed = events[4]
    assert (completed.actor_name, completed.actor_role, completed.task_name) == (
        "service_desk user", "service_desk", "初始支持",
    )  # fmt: skip
    assert audit.data_of(completed)["changes"]["handling"]["after"]["next_stage"] == "first_line"
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    result = verify(db)
    assert result.ok and result.checked == len(events) + 1  # + the version publication


@pytest.mark.parametrize(
    "tamper, broken_at",
    [
        ("UPDATE audit_events SET data = replace(data, 'first_line', 'second_line') WHERE id = 6", 6),
        ("DELETE FROM audit_events WHERE id = 4", 4),
        ("DELETE FROM audit_events WHERE id = 7", 7),  # the last row: the chain head still knows it
    ],
    ids=["edited", "deleted", "last-deleted"],
)
def test_tampering_is_detected(desk, db, tamper, broken_at):
    if db.is_postgresql:
        pytest.skip("PostgreSQL refuses UPDATE and DELETE on the audit table (tested in test_cli)")
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    assert verify(db).ok
    with db.engine.begin() as connection:
        connection.execute(text(tamper))
    result = verify(db)
    assert not result.ok and result.broken_at == broken_at


def test_a_walk_from_an_earlier_result_reads_on_from_its_last_row(desk, db):
    incident_id = desk.register(registration(complaints=20))
    earlier = verify(db)
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    with db.read() as session:
        assert audit.verify(session, after=earlier) == audit.verify(session)
        assert audit.verify(session, after=earlier).checked > earlier.checked


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_events SET actor_name = 'x' WHERE id = :last",  # the earlier result's last row
        "DELETE FROM audit_events WHERE id = :last",
        "UPDATE audit_events SET actor_name = 'x' WHERE id = :last + 1",  # a row appended since
        "DELETE FROM audit_events WHERE id > :last",
    ],
    ids=["last-edited", "last-deleted", "new-edited", "new-deleted"],
)
def test_a_walk_from_an_earlier_result_still_sees_what_it_reads_changed(desk, db, tamper):
    if db.is_postgresql:
        pytest.skip("PostgreSQL refuses UPDATE and DELETE on the audit table (tested in test_cli)")
    incident_id = desk.register(registration(complaints=20))
    earlier = verify(db)
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    with db.engine.begin() as connection:
        connection.execute(text(tamper), {"last": earlier.checked})
    with db.read() as session:
        quick, whole = audit.verify(session, after=earlier), audit.verify(session)
    assert not whole.ok and quick == whole


def test_concurrent_appends_never_fork_the_chain(db):
    actor = Actor(None, "load", frozenset({"system"}))

    def append_many():
        for _ in range(15):
            with db.transaction() as session:
                audit.append(session, kind="probe", actor=actor, at=audit_now(), data={"n": 1})

    threads = [threading.Thread(target=append_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = verify(db)
    assert result.ok and result.checked == 60


def audit_now():
    from app.models import utcnow

    return utcnow()
