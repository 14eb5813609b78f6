"""Reopened incidents and re-created tasks, through the real process: the final resolution counts,
the reopen is put on the group whose resolution was rejected, and time is measured per step."""

from __future__ import annotations

from datetime import timedelta

from app.links import service as links
from app.links.models import PART_OF
from app.models import Incident
from app.reports import (
    CountRow,
    DurationRow,
    RateRow,
    ReopenedIncident,
    ReopenRow,
    ReportFilter,
    backlog,
    completed_tasks,
    reopened_incidents,
    reopens,
    resolution_time,
    timeliness,
)
from app.reports.models import REOPEN, ReportEvent
from tests.conftest import T0
from tests.driver import pass_on, registration, resolved
from tests.reports.scenario import tick_to

H = timedelta(hours=1)
PERIOD = ReportFilter(T0, T0 + 48 * H)


def spans_of(db, flt, incident_id):
    with db.read() as session:
        return [
            (span.spec_id, span.waiting_hours, span.working_hours)
            for span in completed_tasks(session, flt)
            if span.incident_id == incident_id
        ]


def test_a_reopened_incident_counts_with_its_final_resolution(desk, service, clock, db):
    incident_id = desk.register(registration("request"))  # 24 h
    tick_to(clock, 1)
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    tick_to(clock, 2)
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    tick_to(clock, 3)
    desk.complete(
        "requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": False, "comment": "没好"}}
    )
    tick_to(clock, 4)
    desk.complete("first_line", incident_id, "first_line_handling", pass_on("second_line", "test"))
    tick_to(clock, 26)
    desk.complete("second_line_test", incident_id, "second_line_handling", resolved())  # late

    with db.read() as session:
        assert timeliness(session, PERIOD, "group") == [RateRow("second_line:test", 1, 0, 0.0)]
        assert resolution_time(session, PERIOD) == [DurationRow("all", 1, 26.0, 26.0, 26.0, 26.0)]
        # the first resolution (+2 h) was withdrawn by the reopen: a period holding only it counts nothing
        assert timeliness(session, ReportFilter(T0, T0 + 10 * H)) == [RateRow("all", 0, 0, None)]
        assert reopens(session, PERIOD) == [ReopenRow("first_line", 1, 1)]
        assert reopens(session, ReportFilter(T0, T0 + 48 * H, group="second_line")) == []
        assert reopens(session, ReportFilter(T0 + 4 * H, T0 + 48 * H)) == []
        assert reopened_incidents(session, PERIOD) == [
            ReopenedIncident(incident_id, f"INC{incident_id:06d}", "计费接口超时", "resolved", 1, 1)
        ]
        assert backlog(session, PERIOD, at=T0 + 2.5 * H).total == 0  # resolved, awaiting confirmation
        assert backlog(session, PERIOD, at=T0 + 3 * H).by_stage == (CountRow("first_line", 1),)  # reopened
    assert spans_of(db, PERIOD, incident_id) == [
        ("register_incident", 0.0, 0.0),
        ("initial_support", 0.0, 1.0),
        ("first_line_handling", 0.0, 1.0),  # dispatched +1, done +2
        ("first_line_handling", 0.0, 1.0),  # ready again at the reopen (+3), passed on at +4
        ("second_line_handling", 0.0, 22.0),  # dispatched +4, done +26 without a claim
    ]


def test_a_step_recreated_by_new_facts_keeps_its_claim_and_the_notification_duty_starts_then(
    desk, service, actors, clock, db
):
    incident_id = desk.register(registration(complaints=20))  # minor: no fault notification owed
    tick_to(clock, 1)
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    tick_to(clock, 2)
    service.claim(actors["first_line"], incident_id, desk.task(incident_id, "first_line_handling").id)
    tick_to(clock, 3)
    service.add_facts(actors["first_line"], incident_id, {"note": "影响扩大", "affected_users": 250_000})  # orange
    tick_to(clock, 3.25)
    notification = {"channels": ["sms"], "recipients": "省公司值班", "content": "计费接口故障通报"}
    desk.complete("incident_manager", incident_id, "notify_fault", {"notification": notification})
    tick_to(clock, 5)
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    assert spans_of(db, PERIOD, incident_id) == [
        ("register_incident", 0.0, 0.0),
        ("initial_support", 0.0, 1.0),
        ("notify_fault", 0.0, 0.25),  # owed from the re-classification at +3 h
        ("first_line_handling", 1.0, 3.0),  # dispatched +1, claimed +2 (the copy before the facts), done +5
    ]


def test_reopened_incidents_are_listed_most_reopened_first_within_the_filter_and_the_limit(desk, service, actors, db):
    """Counted per incident from the period's reopen events before the incidents are read: ties by
    number, the limit, the type and current level filters, reopens outside the period, and a child of a
    major incident (left out)."""
    twice, once, request, child, parent = (
        desk.register(registration()), desk.register(registration(complaints=20)),
        desk.register(registration("request")),
        desk.register(registration()), desk.register(registration()),
    )  # fmt: skip
    links.link(service, actors["incident_manager"], child, PART_OF, parent)
    reopened = [(twice, 1), (twice, 5), (twice, 60), (once, 2), (request, 3), (request, 4), (child, 6), (child, 7)]
    with db.transaction() as session:
        session.add_all(
            ReportEvent(audit_id=900200 + number, incident_id=incident, kind=REOPEN, at=T0 + hours * H,
                        support_group="first_line")
            for number, (incident, hours) in enumerate(reopened)
        )  # fmt: skip
        assert session.get(Incident, once).level == "minor"
        assert session.get(Incident, twice).level is None

    def listed(flt, limit=None):
        with db.read() as session:
            return [(row.incident_id, row.reopens_in_period) for row in reopened_incidents(session, flt, limit)]

    assert listed(PERIOD) == [(twice, 2), (request, 2), (once, 1)]  # ties: the earlier incident first
    assert listed(PERIOD, limit=2) == [(twice, 2), (request, 2)]
    assert listed(ReportFilter(T0, T0 + 48 * H, type="request")) == [(request, 2)]
    assert listed(ReportFilter(T0, T0 + 48 * H, level="minor")) == [(once, 1)]
    assert listed(ReportFilter(T0, T0 + 48 * H, type="fault", level="none")) == [(twice, 2)]
    assert listed(ReportFilter(T0 + 2 * H, T0 + 48 * H)) == [(request, 2), (twice, 1), (once, 1)]
