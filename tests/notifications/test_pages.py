"""Contact details (one's own and, for an administrator, anyone's) and the administrator's channel page
with the development mail sink."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import AuditEvent, User, utcnow
from app.notifications.models import Notification
from app.notifications.outbox import Outbox
from tests.driver import number, registration


def contact_of(db, username: str) -> tuple:
    with db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        return user.email, user.mobile, user.wecom_id, user.dingtalk_id


def test_a_person_sets_their_own_contact_details(db, as_role):
    client = as_role("first_line")
    page = client.get("/notifications/contact").get_data(as_text=True)
    assert "联系方式" in page and 'name="email"' in page
    response = client.post("/notifications/contact", {"email": " liu@example.com ", "mobile": "138-0013-8000",
                                                      "wecom_id": "liuyang", "dingtalk_id": ""})  # fmt: skip
    assert response.status_code == 302
    assert contact_of(db, "first_line") == ("liu@example.com", "13800138000", "liuyang", None)
    assert "联系方式已保存" in client.get("/notifications/contact").get_data(as_text=True)
    with db.read() as session:
        row = session.scalar(select(AuditEvent).where(AuditEvent.kind == "contact_updated"))
    assert row is not None and "liu@example.com" not in row.data  # which fields, not their values


def test_bad_contact_details_are_refused_beside_their_fields(db, as_role):
    client = as_role("first_line")
    response = client.post("/notifications/contact", {"email": "not-an-address", "mobile": "12ab", "wecom_id": "a b"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请输入电子邮件地址" in page and "请输入手机号码" in page
    assert contact_of(db, "first_line") == (None, None, None, None)
    response = client.post("/notifications/contact", {"email": "x" * 300 + "@example.com"})
    assert response.status_code == 422 and contact_of(db, "first_line")[0] is None


def test_an_administrator_edits_anyones_contact_details_and_nobody_else_may(db, actors, as_role):
    target = actors["second_line_dev"].user_id
    admin = as_role("admin")
    assert "联系方式" in admin.get(f"/admin/users/{target}").get_data(as_text=True)
    assert admin.post(f"/notifications/contact/{target}", {"email": "chen@example.com"}).status_code == 302
    assert contact_of(db, "second_line_dev")[0] == "chen@example.com"
    assert as_role("first_line").post(f"/notifications/contact/{target}", {"email": "x@example.com"}).status_code == 403
    assert admin.get("/notifications/contact/99999").status_code == 404


def test_the_mail_sink_shows_an_administrator_what_would_have_been_sent(app, db, desk, as_role):
    with db.transaction() as session:
        requester = session.scalar(select(User).where(User.username == "requester"))
        requester.email = "requester@example.com"
    incident_id = desk.register(registration("request"))
    worker = app.extensions["notifier"]
    assert "mail sink" in worker.channels["email"].describe()  # no SMTP_HOST: nothing leaves the machine
    assert worker.drain() == 1
    admin = as_role("admin")
    page = admin.get("/notifications/admin").get_data(as_text=True)
    sink = page[page.index('data-testid="mail-sink"') :]
    assert "requester@example.com" in sink and f"【已受理】{number(incident_id)}" in sink
    link = re.search(r'href="(/notifications/admin/mail/[^"]+)"', sink).group(1)
    mail = admin.get(link).get_data(as_text=True)
    assert "您提出的事件已由服务台登记" in mail and f"http://127.0.0.1:5000/incidents/{incident_id}" in mail
    assert admin.get("/notifications/admin/mail/..%2Fsecret_key").status_code == 404
    assert as_role("incident_manager").get("/notifications/admin").status_code == 403


def test_a_failed_delivery_is_sent_again_to_the_persons_current_address(db, desk, actors, as_role):
    incident_id = desk.register(registration("request"))
    with db.transaction() as session:
        user = session.get(User, actors["first_line"].user_id)
        user.email = "old@example.com"
        box = Outbox(session, utcnow())
        box.add_chosen(f"task:{incident_id}", "task_arrived", user, ["email"], {"number": number(incident_id)},
                       incident_id=incident_id)  # fmt: skip
        box.flush()
        row = session.scalars(select(Notification).where(Notification.channel == "email")).one()
        row.status, row.attempts, row.last_error = "failed", 5, "550 5.1.1 mailbox unavailable"
        user.email = "new@example.com"  # the administrator corrected it
        row_id = row.id
    manager = as_role("incident_manager")
    page = manager.get("/notifications/failures").get_data(as_text=True)
    assert "old@example.com" in page and "550 5.1.1 mailbox unavailable" in page and "重新发送" in page
    assert as_role("first_line").post(f"/notifications/failures/{row_id}/retry").status_code == 403
    done = manager.post(f"/notifications/failures/{row_id}/retry", follow_redirects=True).get_data(as_text=True)
    assert "该通知将很快重新发送。" in done and "没有发送失败的通知。" in done
    with db.read() as session:
        row = session.get(Notification, row_id)
    assert (row.status, row.attempts, row.address) == ("pending", 0, "new@example.com")
    again = manager.post(f"/notifications/failures/{row_id}/retry", follow_redirects=True).get_data(as_text=True)
    assert "不在发送失败状态" in again  # already waiting: nothing twice
    assert manager.post("/notifications/failures/999999/retry").status_code == 404
    retried = [data for kind, data in desk.audit(incident_id) if kind == "notification_retried"]
    assert retried == [{"kind": "task_arrived", "recipient": "first_line user", "channel": "email"}]
