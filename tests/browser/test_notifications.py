"""The bell counts a notification that arrives while the page is open, without a reload; the centre
lists it and opening it leads to the task. The administrator sees a delivery a real SMTP server
refused, with the reason, and sends it again."""

from __future__ import annotations

from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from app.incidents.service import IncidentService
from app.models import User, utcnow
from app.notifications.channels.email import SmtpChannel
from app.notifications.messages import Site
from app.notifications.outbox import Outbox
from app.notifications.worker import Worker
from tests.driver import Desk, number, pass_on, registration
from tests.notifications.conftest import free_port


def test_the_bell_updates_by_itself_and_leads_to_the_task(app, db, actors, open_as, live_server):
    app.config["NOTIFY_POLL_SECONDS"] = 0.5
    page = open_as("first_line")
    count = page.locator("[data-bell] [data-unread]")
    expect(count).to_be_hidden()

    desk = Desk(IncidentService(db), db, actors)  # meanwhile, the service desk passes an incident on
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))

    expect(count).to_have_text("1", timeout=10_000)  # no reload
    page.locator("[data-bell]").click()
    item = page.get_by_test_id("notification").first
    expect(item).to_contain_text("一线尝试解决")
    expect(item).to_contain_text("未读")
    item.locator("button.subject").click()
    expect(page).to_have_url(f"{live_server}/tasks/{incident_id}/{desk.task(incident_id, 'first_line_handling').id}")
    expect(page.locator("[data-bell] [data-unread]")).to_be_hidden()


class RefusingMailServer:
    """A real SMTP server (aiosmtpd) that refuses the recipient while `refusing`, then accepts."""

    def __init__(self):
        self.refusing, self.received = True, []

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.refusing:
            return "550 5.1.1 <first_line@example.com>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.rcpt_tos)
        return "250 OK"


def test_the_administrator_sees_a_failed_delivery_with_its_reason_and_sends_it_again(db, actors, open_as,
                                                                                      live_server):  # fmt: skip
    mail, port = RefusingMailServer(), free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        desk = Desk(IncidentService(db), db, actors)
        incident_id = desk.register(registration("request"))
        with db.transaction() as session:
            user = session.get(User, actors["first_line"].user_id)
            user.email = "first_line@example.com"
            box = Outbox(session, utcnow())
            params = {"number": number(incident_id), "title": "计费接口超时", "level_code": "blue", "system": None,
                      "due": None, "path": f"/incidents/{incident_id}", "task": "一线尝试解决"}  # fmt: skip
            box.add_chosen(f"task:{incident_id}", "task_arrived", user, ["email"], params, incident_id=incident_id)
            box.flush()
        channels = {"email": SmtpChannel(host="127.0.0.1", port=port, sender="incidents@example.com", timeout=5)}
        worker = Worker(db, channels, Site(base_url=live_server))
        worker.drain()  # refused for good: failed at once

        admin = open_as("admin")
        admin.goto(f"{live_server}/notifications/admin")
        row = admin.get_by_test_id("failed").get_by_test_id("failed-delivery")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("first_line user <first_line@example.com>")
        expect(row).to_contain_text("邮件")
        expect(row).to_contain_text(number(incident_id))
        expect(row.get_by_test_id("failure-reason")).to_contain_text("550")
        expect(row.get_by_test_id("failure-reason")).to_contain_text("mailbox unavailable")

        mail.refusing = False  # the mailbox is back
        row.get_by_role("button", name="重新发送").click()
        expect(admin.locator(".flash-success")).to_contain_text("该通知将很快重新发送")
        expect(admin).to_have_url(f"{live_server}/notifications/admin")
        expect(admin.get_by_test_id("failed")).to_contain_text("没有发送失败的通知")
        assert worker.drain() == 1 and mail.received == [["first_line@example.com"]]
        admin.reload()
        expect(admin.get_by_test_id("failed").get_by_test_id("failed-delivery")).to_have_count(0)
        assert "notification_retried" in desk.audit_kinds(incident_id)
    finally:
        controller.stop()
