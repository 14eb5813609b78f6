"""SMS, WeCom, DingTalk and the generic webhook, delivered to real local HTTP servers that check
signatures as each service does; a failed channel falls back to the person's next one and the
incident managers hear of it; delivery states on the incident's timeline and in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent, User
from app.notifications.channels import Outgoing
from app.notifications.channels.email import MailSink, SmtpChannel
from app.notifications.channels.http import DingTalkRobot, SignedJson, WeComRobot
from app.notifications.messages import Rendered, Site
from app.notifications.worker import Policy, Worker
from tests.driver import number, pass_on, registration, resolved
from tests.notifications import receivers
from tests.notifications.conftest import free_port, outbox, who

SITE = Site(base_url="https://incidents.example.com")


@pytest.fixture
def servers():
    started = []

    def start(check):
        receiver = receivers.Receiver(check)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def contact(db, username: str, **values) -> None:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        for name, value in values.items():
            setattr(user, name, value)


def manager_id(db) -> int:
    with db.read() as session:
        return session.scalar(select(User.id).where(User.username == "incident_manager"))


def test_an_emergency_reaches_the_manager_on_every_channel_signed_as_each_service_signs(desk, db, servers, tmp_path):
    contact(db, "incident_manager", email="sun@example.com", mobile="13800138000", wecom_id="sunli",
            dingtalk_id="ding-sunli")  # fmt: skip
    dingtalk = servers(receivers.dingtalk("tok", "SECabc"))
    wecom = servers(receivers.wecom("wkey"))
    sms = servers(receivers.signed_json("sms-secret"))
    hook = servers(receivers.signed_json("hook-secret"))
    channels = {
        "email": MailSink(tmp_path / "mail", "incidents@example.com"),
        "sms": SignedJson(f"{sms.url}/send", "sms-secret", "sms"),
        "wecom": WeComRobot(f"{wecom.url}/cgi-bin/webhook/send?key=wkey"),
        "dingtalk": DingTalkRobot(f"{dingtalk.url}/robot/send?access_token=tok", "SECabc"),
        "webhook": SignedJson(f"{hook.url}/hook", "hook-secret", "webhook"),
    }
    incident_id = desk.register(registration(core_business_impact="yes"))
    Worker(db, channels, SITE).drain()
    incident = number(incident_id)

    [(_, _, _, ding)] = dingtalk.received
    assert ding["msgtype"] == "text" and ding["at"] == {"atUserIds": ["ding-sunli"]}
    assert ding["text"]["content"].startswith(f"【紧急事件】{incident}") and "@ding-sunli" in ding["text"]["content"]
    [(_, _, _, robot)] = wecom.received
    assert robot["text"]["mentioned_list"] == ["sunli"] and f"/incidents/{incident_id}" in robot["text"]["content"]
    [(_, _, headers, text)] = sms.received
    assert text == {
        "to": "13800138000",
        "text": f"【紧急事件】{incident} 计费接口超时 https://incidents.example.com/incidents/{incident_id}",
    }
    assert headers["X-Idempotency-Key"] == f"incident:{incident_id}:emergency:{manager_id(db)}:sms"
    events = {body["kind"]: body for _, _, _, body in hook.received}
    assert events["emergency"]["data"]["number"] == incident and events["emergency"]["link"].endswith(
        f"/incidents/{incident_id}"
    )
    assert {row.status for row in outbox(db, incident_id=incident_id) if row.channel != "inapp"} == {"sent"}


def test_wrong_signatures_and_keys_are_refused_and_reported(desk, db, servers):
    contact(db, "incident_manager", dingtalk_id="ding-sunli", wecom_id="sunli")
    dingtalk = servers(receivers.dingtalk("tok", "SECabc"))
    wecom = servers(receivers.wecom("wkey"))
    hook = servers(receivers.signed_json("hook-secret"))
    channels = {
        "dingtalk": DingTalkRobot(f"{dingtalk.url}/robot/send?access_token=tok", "SECwrong"),
        "wecom": WeComRobot(f"{wecom.url}/cgi-bin/webhook/send?key=other"),
        "webhook": SignedJson(f"{hook.url}/hook", "not-the-secret", "webhook"),
    }
    desk.register(registration(core_business_impact="yes"))
    Worker(db, channels, SITE, policy=Policy(max_attempts=1)).drain()
    assert dingtalk.received == [] and wecom.received == [] and hook.received == []
    failed = outbox(db) + outbox(db, channel="webhook")
    errors = {row.channel: row.last_error for row in failed if row.status == "failed"}
    assert "errcode 310000 sign not match" in errors["dingtalk"]
    assert "errcode 93000" in errors["wecom"] and "HTTP 401" in errors["webhook"]
    assert "tok" not in errors["dingtalk"] and "other" not in errors["wecom"]  # no secret in what people read


def test_a_failed_channel_falls_back_and_the_managers_and_the_timeline_show_it(desk, db, servers, tmp_path, as_role):
    contact(db, "requester", mobile="13900139000", email="zhang@example.com")
    sms = servers(receivers.down())
    sink = MailSink(tmp_path / "mail", "incidents@example.com")
    channels = {"sms": SignedJson(f"{sms.url}/send", "s", "sms"), "email": sink}
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", resolved(text="调整了配置"))
    # the requester's "please confirm" goes by e-mail and SMS (their role's default); SMS is down
    Worker(db, channels, SITE, policy=Policy(max_attempts=2, backoff_seconds=0)).drain()
    confirm = {row.channel: row for row in outbox(db, kind="resolved")}
    assert confirm["sms"].status == "failed" and "HTTP 503" in confirm["sms"].last_error
    assert confirm["email"].status == "sent"  # it had e-mail anyway: no second e-mail as a fallback
    notices = outbox(db, kind="delivery_failed")
    assert who(notices) == [("delivery_failed", "incident_manager", "inapp")]

    page = as_role("incident_manager").get("/notifications/").get_data(as_text=True)
    assert f"【通知未送达】{number(incident_id)} requester user" in page
    failures = as_role("incident_manager").get("/notifications/failures").get_data(as_text=True)
    assert "13900139000" in failures and "HTTP 503" in failures
    assert as_role("first_line").get("/notifications/failures").status_code == 403
    record = as_role("incident_manager").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "通知未送达" in record and "通知已送达" in record and "HTTP 503" in record
    with db.read() as session:
        kinds = list(session.scalars(select(AuditEvent.kind).where(AuditEvent.incident_id == incident_id)))
    assert "notification_failed" in kinds and "notification_sent" in kinds
    requester_view = as_role("requester").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "通知未送达" not in requester_view  # internal


def test_fallback_to_the_next_channel_when_the_only_one_fails(desk, db, servers):
    contact(db, "requester", email="zhang@example.com", wecom_id="zhangwei")
    wecom = servers(receivers.wecom("k"))
    nobody = SmtpChannel(host="127.0.0.1", port=free_port(), sender="incidents@example.com", timeout=5)
    channels = {"email": nobody, "wecom": WeComRobot(f"{wecom.url}/cgi-bin/webhook/send?key=k")}
    incident_id = desk.register(registration("request"))  # "registered" goes by e-mail only (their default)
    assert sorted(row.channel for row in outbox(db, kind="registered", recipient_name="requester user")) == [
        "email",
        "inapp",
    ]
    Worker(db, channels, SITE, policy=Policy(max_attempts=1)).drain()
    rows = {row.channel: row for row in outbox(db, kind="registered")}
    assert rows["email"].status == "failed" and rows["wecom"].status == "sent"
    [(_, _, _, body)] = wecom.received
    assert body["text"]["mentioned_list"] == ["zhangwei"] and number(incident_id) in body["text"]["content"]


def test_the_mail_sink_delivers_into_a_folder_another_worker_has_just_made(tmp_path):
    """A second notification worker starting at the same moment finds the sink's folder made but not yet
    its tmp/, new/ and cur/ (Maildir(create=True) makes them only with a new folder): it still delivers."""
    (tmp_path / "mail").mkdir()
    sink = MailSink(tmp_path / "mail", "incidents@example.com")
    message = Rendered(
        "新任务：INC000001",
        "请处理。\n\nhttps://incidents.example.com/incidents/1\n",
        "https://incidents.example.com/incidents/1",
    )
    sink.send(Outgoing("k1", "task_ready", "task_ready", "desk@example.com", "desk user", message))
    (read,) = sink.messages()
    assert "请处理" in read.body
