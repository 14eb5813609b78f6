"""What the process's own steps send: the fault notification (prefilled from the incident, edited in
the task, sent to the recipients written in it), "已上报领导" to leadership, an emergency's
announcements, and mentions (the function the collaboration area calls)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import notifications
from app.comments import service as comments
from app.comments.models import WORK_NOTE
from app.engine.operations import Event
from app.models import Incident, User
from app.notifications.channels.email import SmtpChannel
from app.notifications.messages import Site
from app.notifications.worker import Worker
from tests.driver import number, registration, resolved
from tests.notifications.conftest import outbox, params, who

SITE = Site(base_url="https://incidents.example.com")


def test_the_fault_notice_form_starts_from_the_incident(desk, service, as_role):
    incident_id = desk.register(registration(complaints=50, affected_users=12000))  # yellow: a notice is owed
    task = desk.task(incident_id, "notify_fault")
    form = service.task_form(incident_id, task.id)
    notice = form.data["notification"]
    assert notice["recipients"] == "事件经理、高层领导" and notice["channels"] == ["email"]
    assert notice["content"].startswith("【故障通报】黄色故障：计费接口超时")
    assert "故障现象：营业厅反馈缴费后余额不更新" in notice["content"] and "12000 用户受影响" in notice["content"]
    page = as_role("incident_manager").get(f"/tasks/{incident_id}/{task.id}").get_data(as_text=True)
    assert "【故障通报】黄色故障：计费接口超时" in page  # the manager edits it there before sending


def test_the_fault_notice_reaches_the_people_and_addresses_written_in_it(desk, db, reachable, smtp_server):
    server, port = smtp_server
    incident_id = desk.register(registration(complaints=50))
    content = "计费接口故障，影响缴费到账，预计 30 分钟内恢复"
    recipients = "高层领导、first_line，ops@example.com 13800138000 省公司值班"
    notice = {"channels": ["email", "sms", "phone"], "recipients": recipients, "content": content}
    desk.complete("incident_manager", incident_id, "notify_fault", {"notification": notice})
    rows = outbox(db, kind="fault_notice")
    assert who(rows) == [
        ("fault_notice", "13800138000", "sms"),  # a mobile number, directly
        ("fault_notice", "first_line", "email"),  # an account by username, on the chosen channel
        ("fault_notice", "first_line", "inapp"),
        ("fault_notice", "leadership", "email"),  # a role's name: all its members
        ("fault_notice", "leadership", "inapp"),
        ("fault_notice", "ops@example.com", "email"),  # an address, directly
    ]  # 省公司值班 is nobody the system knows: reached by phone, not by this
    smtp = SmtpChannel(host="127.0.0.1", port=port, sender="incidents@example.com", timeout=5)
    Worker(db, {"email": smtp}, SITE).drain()
    to_ops = next(mail for mail in server.received if mail["To"] == "ops@example.com")
    assert to_ops["Subject"] == f"【故障通报】{number(incident_id)} 计费接口超时"
    assert content in to_ops.get_content() and f"/incidents/{incident_id}" in to_ops.get_content()


def test_reported_to_leadership_reaches_leadership(desk, db, service, clock, reachable):
    incident_id = desk.register(registration("request"))
    clock.tick(timedelta(hours=19, minutes=13))
    service.fire_due_timers()  # the warning: the manager follows it up
    follow_up = {"follow_up": {"action": "escalated", "note": "二线资源不足，请协调"}}
    desk.complete("incident_manager", incident_id, "follow_up_warning", follow_up)
    rows = outbox(db, kind="leadership_report")
    assert who(rows) == [("leadership_report", "leadership", "email"), ("leadership_report", "leadership", "inapp")]
    assert params(rows[0])["note"] == "二线资源不足，请协调" and params(rows[0])["breached"] is False


def test_each_announcement_of_an_emergency_is_sent(desk, db, reachable):
    incident_id = desk.register(registration(core_business_impact="yes"))
    for text in ("计费系统故障，正在抢修", "已恢复八成业务"):
        announce = {"handling": {"outcome": "announce", "announcement": text}}
        desk.complete("incident_manager", incident_id, "coordinate_emergency", announce)
    rows = outbox(db, kind="announcement", channel="inapp")
    texts = sorted((row.recipient_name, params(row)["text"]) for row in rows)
    assert texts == [
        ("leadership user", "已恢复八成业务"),
        ("leadership user", "计费系统故障，正在抢修"),
        ("requester user", "已恢复八成业务"),
        ("requester user", "计费系统故障，正在抢修"),
    ]  # the manager who published them is not told


def test_mentions_for_the_collaboration_area(desk, db, reachable):
    incident_id = desk.register(registration("request"))
    with db.transaction() as session:
        incident = session.get(Incident, incident_id)
        ids = list(session.scalars(select(User.id).where(User.username.in_(["first_line", "service_desk"]))))
        notifications.mention(session, incident, ids, actor=reachable["service_desk"], now=incident.created_at,
                              note="@first_line 请看一下接口日志", note_id=1)  # fmt: skip
    rows = outbox(db, kind="mention")
    assert who(rows) == [("mention", "first_line", "email"), ("mention", "first_line", "inapp")]  # not the author
    assert params(rows[0])["note"] == "@first_line 请看一下接口日志"


def test_a_work_note_mentioning_a_colleague_reaches_them(desk, db, service, reachable):
    incident_id = desk.register(registration("request"))
    comments.add(service, reachable["service_desk"], incident_id, WORK_NOTE, "@first_line 请看一下计费接口日志")
    rows = outbox(db, kind="mention")
    assert who(rows) == [("mention", "first_line", "email"), ("mention", "first_line", "inapp")]
    assert params(rows[0])["by"] == "service_desk user" and "计费接口日志" in params(rows[0])["note"]


def test_a_resolution_sends_nothing_twice_when_an_action_is_replayed(desk, db, reachable):
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    before = len(outbox(db))
    with db.transaction() as session:  # the same events written again (a retried action): no new rows
        incident = session.get(Incident, incident_id)
        notifications.emit(session, incident, [Event("resolved", {"text": "x"}), Event("closed", {"code": "resolved"})],
                           actor=reachable["service_desk"], now=incident.created_at)  # fmt: skip
    assert len(outbox(db)) == before + 2  # only the closure (email and in-app) is new
