"""Alarms into incidents, with the real engine and database: dedupe by fingerprint, one parent for a
storm, a resolved alarm noted and never closing, every alarm kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.alarms.mapping import Received
from app.alarms.models import ATTACHED, OPENED, REFUSED, RESOLVED, STORM_CHILD, UNMATCHED, Alarm
from app.alarms.service import AlarmService, alarms_of
from app.incidents.service import PermissionDenied
from app.links.service import children_ids
from app.models import Incident


def alarm(fingerprint="fp-1", status="firing", system="CRM", **fields) -> Received:
    return Received(
        "generic", "zabbix", fingerprint, status, fields.pop("summary", f"告警 {fingerprint}"), system=system, **fields
    )


@pytest.fixture
def alarms(service) -> AlarmService:
    return AlarmService(service, storm_window=timedelta(minutes=10))


def test_a_firing_alarm_opens_a_registered_fault_and_repeats_attach(alarms, actors, desk, db):
    desk_actor = actors["service_desk"]
    first = alarms.receive(desk_actor, alarm(labels={"affected_users": "500"}))
    assert first.outcome == OPENED
    incident = desk.incident(first.incident_id)
    assert (incident.status, incident.type, incident.source, incident.system) == ("open", "fault", "monitoring", "CRM")
    assert incident.requester_id is None
    again = alarms.receive(desk_actor, alarm())
    assert (again.outcome, again.incident_id) == (ATTACHED, first.incident_id)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert len(alarms_of(session, first.incident_id)) == 2
    assert "alarm_received" in desk.audit_kinds(first.incident_id)


def test_a_storm_for_one_system_has_one_parent_and_the_rest_are_its_children(alarms, actors, clock, db):
    desk_actor = actors["service_desk"]
    parent = alarms.receive(desk_actor, alarm("disk"))
    children = [alarms.receive(desk_actor, alarm(name)) for name in ("cpu", "memory", "latency")]
    assert [child.outcome for child in children] == [STORM_CHILD] * 3
    assert {child.parent_incident_id for child in children} == {parent.incident_id}
    assert len({child.incident_id for child in children}) == 3
    other = alarms.receive(desk_actor, alarm("disk-2", system="Billing"))
    assert other.outcome == OPENED  # another system: no storm
    clock.tick(timedelta(minutes=11))
    assert alarms.receive(desk_actor, alarm("later")).outcome == OPENED  # the window has passed
    with db.read() as session:
        assert len(alarms_of(session, parent.incident_id)) == 4  # the parent lists its children's alarms
        assert children_ids(session, parent.incident_id) == sorted(child.incident_id for child in children)


def test_a_resolved_alarm_adds_a_note_and_never_closes(alarms, actors, desk):
    desk_actor = actors["service_desk"]
    opened = alarms.receive(desk_actor, alarm())
    resolved = alarms.receive(desk_actor, alarm(status="resolved"))
    assert (resolved.outcome, resolved.incident_id) == (RESOLVED, opened.incident_id)
    assert desk.incident(opened.incident_id).status == "open"
    notes = [data["text"] for kind, data in desk.audit(opened.incident_id) if kind == "work_note_added"]
    assert len(notes) == 1 and notes[0].startswith("监控告警已恢复：告警 fp-1")  # a work note in the timeline
    assert alarms.receive(desk_actor, alarm("never-fired", status="resolved")).outcome == UNMATCHED


def test_an_account_that_may_not_register_is_refused_and_a_refused_form_keeps_the_alarm(alarms, actors, db):
    with pytest.raises(PermissionDenied):
        alarms.receive(actors["second_line_dev"], alarm())  # (first line may register too)
    refused = alarms.receive(actors["service_desk"], alarm("bad", summary=""))
    assert refused.outcome == REFUSED and refused.detail and refused.incident_id is None
    with db.read() as session:
        assert session.scalar(select(Alarm.outcome).where(Alarm.fingerprint == "bad")) == REFUSED
