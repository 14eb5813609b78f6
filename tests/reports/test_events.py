"""The values reports read from audit rows, extracted by the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from app.models import AuditEvent
from app.reports.events import select_rows
from tests.driver import pass_on, registration
from tests.reports.scenario import tick_to


def test_rows_carry_the_task_stage_group_level_and_notification_duty(desk, service, actors, clock, db):
    incident_id = desk.register(registration(complaints=50))  # yellow: a fault notification is owed
    desk.complete("service_desk", incident_id, "initial_support", pass_on("second_line", "information_systems"))
    task = desk.task(incident_id, "second_line_handling")
    service.claim(actors["second_line_is"], incident_id, task.id)
    notification = {"channels": ["sms"], "recipients": "省公司值班", "content": "计费接口故障通报"}
    desk.complete("incident_manager", incident_id, "notify_fault", {"notification": notification})
    service.add_facts(actors["second_line_is"], incident_id, {"note": "影响扩大", "affected_users": 250_000})  # orange
    tick_to(clock, 13)
    assert service.fire_due_timers() == 1  # orange: 12 h, breached
    with db.read() as session:
        rows = select_rows(session, None, AuditEvent.incident_id == incident_id)
    seen = [
        (row.kind, row.spec_id, row.stage, row.group, row.level, row.notification_duty)
        for row in rows
        if row.kind not in ("started", "facts_added")
    ]
    assert seen == [
        ("task_completed", "register_incident", None, None, None, False),
        ("classified", None, None, None, "yellow", True),
        ("dispatched", None, "initial_support", None, None, False),
        ("task_completed", "initial_support", None, None, None, False),
        ("dispatched", None, "second_line", "information_systems", None, False),
        ("task_claimed", "second_line_handling", None, None, None, False),
        ("task_completed", "notify_fault", None, None, None, False),
        ("reclassified", None, None, None, "orange", False),  # the notification was already owed
        ("deadline_warning", None, None, None, None, False),
        ("deadline_breach", None, None, None, "orange", False),
    ]
    assert rows[0].at + timedelta(hours=13) == rows[-1].at
    assert {row.actor_name for row in rows if row.kind == "task_claimed"} == {"second_line_is user"}
