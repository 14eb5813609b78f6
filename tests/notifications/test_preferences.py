"""Channels per person and kind (their roles' defaults until they choose), quiet hours, and a channel
that is not configured where the worker runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.models import AuditEvent, User
from app.notifications.channels.email import MailSink
from app.notifications.messages import Site
from app.notifications.worker import Worker
from tests.driver import pass_on, registration
from tests.notifications.conftest import outbox, who


def give(db, username: str, **contact) -> None:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        for name, value in contact.items():
            setattr(user, name, value)


def channels_of(db, kind: str, name: str) -> list[str]:
    return sorted(channel for k, who_, channel in who(outbox(db, kind=kind)) if who_ == name)


def test_role_defaults_send_emergencies_by_sms_and_pool_tasks_by_email_only(desk, db, actors):
    for role in ("incident_manager", "first_line", "leadership"):
        give(db, role, email=f"{role}@example.com", mobile="13800138000", wecom_id=role)
    desk.register(registration(core_business_impact="yes"))
    assert channels_of(db, "emergency", "incident_manager") == ["email", "inapp", "sms", "wecom"]
    assert channels_of(db, "emergency", "leadership") == ["email", "inapp", "sms"]
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    assert channels_of(db, "task_arrived", "first_line") == ["email", "inapp"]


def test_a_person_chooses_their_channels_and_can_go_back_to_the_defaults(desk, db, as_role):
    give(db, "first_line", email="liu@example.com", mobile="13800138000")
    client = as_role("first_line")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "一项任务进入我所在组的队列" in page and "角色默认" in page
    chosen = {"pref-task_arrived": "sms", "pref-deadline_breach": ["email", "sms"]}
    response = client.post("/notifications/preferences", chosen)
    assert response.status_code == 302
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    assert channels_of(db, "task_arrived", "first_line") == ["inapp", "sms"]
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="pref-task_arrived" value="sms"' in page and "通知设置已保存" in page
    with db.read() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.kind == "notification_preferences_changed"))

    assert client.post("/notifications/preferences", {"action": "reset"}).status_code == 302
    other = desk.register(registration("request"))
    desk.complete("service_desk", other, "initial_support", pass_on("first_line"))
    rows = outbox(db, kind="task_arrived", incident_id=other)
    assert sorted(row.channel for row in rows) == ["email", "inapp"]


def test_quiet_hours_hold_back_all_but_emergencies_and_breaches(desk, db, as_role, tmp_path):
    give(db, "incident_manager", email="sun@example.com")
    client = as_role("incident_manager")
    bad = client.post("/notifications/preferences", {"quiet_starts": "25:00", "quiet_ends": "07:00"})
    assert bad.status_code == 422 and "请输入时间" in bad.get_data(as_text=True)
    settings = {"quiet_starts": "22:00", "quiet_ends": "07:00", "pref-task_arrived": "email", "pref-emergency": "email"}
    assert client.post("/notifications/preferences", settings).status_code == 302
    desk.register(registration(core_business_impact="yes"))  # an emergency
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("incident_manager"))

    night = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    sink = MailSink(tmp_path / "mail", "incidents@example.com")
    worker = Worker(db, {"email": sink}, Site(), clock=lambda: night)
    worker.drain()
    subjects = [message.subject for message in sink.messages()]
    assert len(subjects) == 1 and subjects[0].startswith("【紧急事件】")
    [waiting] = [row for row in outbox(db, channel="email") if row.status == "pending"]
    assert waiting.attempts == 0 and waiting.next_attempt_at == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 07:00
    morning = [night + timedelta(hours=7, minutes=31)]
    Worker(db, {"email": sink}, Site(), clock=lambda: morning[0]).drain()
    assert len(sink.messages()) == 2


def test_a_channel_not_configured_here_is_skipped_not_failed(desk, db, tmp_path):
    give(db, "incident_manager", email="sun@example.com", mobile="13800138000")
    desk.register(registration(core_business_impact="yes"))
    Worker(db, {"email": MailSink(tmp_path / "mail", "x@example.com")}, Site()).drain()
    rows = {row.channel: row for row in outbox(db, kind="emergency") if row.recipient_name == "incident_manager user"}
    assert rows["email"].status == "sent"
    assert (rows["sms"].status, rows["sms"].last_error) == ("skipped", "sms is not configured")
