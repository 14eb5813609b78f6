"""Delivery: a real SMTP server receives the mail; retries, back-off and failure; several workers and
a worker killed mid-delivery still send each message once."""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.models import User, utcnow
from app.notifications.channels.email import MailSink, SmtpChannel
from app.notifications.messages import Site
from app.notifications.models import DeliveryAttempt, Notification
from app.notifications.outbox import Outbox
from app.notifications.worker import Policy, Worker, run_forever
from app.observability.heartbeats import Heartbeat
from tests.conftest import AUDIT_KEY
from tests.driver import registration
from tests.notifications.conftest import free_port, outbox

ROOT = Path(__file__).resolve().parents[2]
SITE = Site(base_url="https://incidents.example.com")


def smtp(port: int, **options) -> dict:
    return {"email": SmtpChannel(host="127.0.0.1", port=port, sender="incidents@example.com", timeout=5, **options)}


def write(db, count: int) -> list[str]:
    """`count` task notifications to every account with an e-mail address; returns the e-mail keys."""
    with db.transaction() as session:
        box = Outbox(session, utcnow())
        users = list(session.scalars(select(User).where(User.email.is_not(None)).order_by(User.id)))
        for number in range(count):
            params = {"number": f"INC{number:06d}", "title": "计费接口超时", "level_code": "yellow", "system": None,
                      "due": None, "path": f"/incidents/{number}", "task": "一线尝试解决"}  # fmt: skip
            box.add(f"test:{number}", "task_arrived", users, params)
        box.flush()
    return [row.key for row in outbox(db, channel="email")]


def test_mail_reaches_a_real_smtp_server_in_the_recipients_language(desk, db, reachable, smtp_server):
    server, port = smtp_server
    incident_id = desk.register(registration("request"))
    worker = Worker(db, smtp(port), SITE)
    assert worker.drain() == 1
    [mail] = server.received
    assert mail["To"] == "requester@example.com" and mail["From"] == "incidents@example.com"
    assert mail["Subject"] == f"[Registered] INC{incident_id:06d} 计费接口超时"  # the requester reads English
    body = mail.get_content()
    assert "The service desk has registered your incident" in body
    assert f"https://incidents.example.com/incidents/{incident_id}" in body
    [row] = outbox(db, channel="email")
    assert (row.status, row.attempts, mail["X-Notification-Key"]) == ("sent", 1, row.key)
    assert worker.drain() == 0  # sent once


def test_chinese_is_the_default_language(db, reachable, smtp_server):
    server, port = smtp_server
    write(db, 1)
    Worker(db, smtp(port), SITE).drain()
    to_manager = next(mail for mail in server.received if mail["To"] == "incident_manager@example.com")
    assert to_manager["Subject"] == "【待办】INC000000 一线尝试解决"
    assert "您所在的组收到一项新任务「一线尝试解决」" in to_manager.get_content()


def test_smtp_login(db, reachable):
    server_inbox = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            server_inbox.append(session.authenticated)
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=auth_data.login == b"notifier" and auth_data.password == b"s3cret", handled=False)

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_required=True, auth_require_tls=False)  # fmt: skip
    controller.start()
    try:
        write(db, 1)
        wrong = Worker(db, smtp(port, username="notifier", password="wrong"), SITE)
        assert wrong.run_once() > 0 and server_inbox == []
        assert {row.last_error for row in outbox(db, channel="email")} == {"SMTP login refused: 535"}
        with db.transaction() as session:  # due again now
            for row in session.scalars(select(Notification)):
                row.next_attempt_at = utcnow()
        Worker(db, smtp(port, username="notifier", password="s3cret"), SITE).drain()
        assert len(server_inbox) == len(outbox(db, channel="email")) and all(server_inbox)
    finally:
        controller.stop()


def test_a_channel_that_is_down_is_retried_with_back_off_then_reported(app, db, reachable, as_role):
    write(db, 1)
    now = [utcnow()]
    policy = Policy(max_attempts=3, backoff_seconds=60)
    worker = Worker(db, smtp(free_port()), SITE, policy=policy, clock=lambda: now[0])  # nobody listens there
    row_count = len(outbox(db, channel="email"))
    assert worker.drain() == row_count
    first = outbox(db, channel="email")[0]
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.next_attempt_at - now[0] == timedelta(seconds=60)
    assert worker.drain() == 0  # not before its time
    now[0] += timedelta(seconds=61)
    assert worker.drain() == row_count
    assert outbox(db, channel="email")[0].next_attempt_at - now[0] == timedelta(seconds=120)  # doubled
    now[0] += timedelta(seconds=121)
    worker.drain()
    rows = outbox(db, channel="email")
    assert {(row.status, row.attempts) for row in rows} == {("failed", 3)}
    assert "Connection refused" in rows[0].last_error
    with db.read() as session:
        attempts = session.scalars(select(DeliveryAttempt.outcome).where(DeliveryAttempt.notification_id == first.id))
        assert list(attempts) == ["retry", "retry", "failed"]
    page = as_role("admin").get("/notifications/admin").get_data(as_text=True)
    failed = page[page.index('data-testid="failed"') :]
    assert "incident_manager@example.com" in failed and "Connection refused" in failed


def test_a_refused_recipient_is_not_retried(db, reachable):
    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 no such mailbox"

    port = free_port()
    controller = Controller(Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        write(db, 1)
        Worker(db, smtp(port), SITE).drain()
        assert {(row.status, row.attempts) for row in outbox(db, channel="email")} == {("failed", 1)}
    finally:
        controller.stop()


def test_several_workers_at_once_send_each_message_once(db, reachable, tmp_path):
    keys = write(db, 8)
    sink = MailSink(tmp_path / "mail", "incidents@example.com")
    workers = [Worker(db, {"email": sink}, SITE, policy=Policy(batch=3), name=f"w{n}") for n in range(3)]
    threads = [threading.Thread(target=worker.drain) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = sorted(message.body for message in sink.messages(1000))
    assert len(sent) == len(keys) and len(set(sent)) == len(keys)
    assert {row.status for row in outbox(db, channel="email")} == {"sent"}
    with db.read() as session:
        assert session.scalar(select(DeliveryAttempt.id).where(DeliveryAttempt.outcome != "sent")) is None
        assert len(set(session.scalars(select(DeliveryAttempt.worker)))) > 1


@pytest.mark.long
def test_a_worker_killed_mid_delivery_and_restarted_sends_each_message_once(
    db, database_url, reachable, smtp_server, tmp_path
):
    server, port = smtp_server
    keys = write(db, 1)
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test", "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(port), "NOTIFY_LEASE_SECONDS": "1", "NOTIFY_INTERVAL_SECONDS": "0.2",
           "AUDIT_HMAC_KEY": AUDIT_KEY, "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints")}  # fmt: skip
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "run"]

    def start():
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    server.hold_next()  # the first message stops in the middle of its SMTP conversation
    worker = start()
    try:
        assert server.arrived.wait(60), worker.stderr.read1().decode() if worker.poll() is not None else "no mail"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    server.release()  # the message the dead worker was sending is refused (451): it was never delivered
    assert server.keys() == []
    assert {row.status for row in outbox(db, channel="email")} == {"sending"}  # the dead worker's claim

    worker = start()
    try:
        deadline = time.monotonic() + 60
        while {row.status for row in outbox(db, channel="email")} != {"sent"} and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(10)
    assert sorted(server.keys()) == sorted(keys)  # each once
    assert {row.attempts for row in outbox(db, channel="email")} == {2}  # claimed by each worker


def test_starttls_to_a_server_with_its_own_certificate(db, reachable, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make the test server's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(session.ssl is not None)  # the message came over TLS
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    try:
        write(db, 1)
        plain = Worker(db, smtp(port), SITE, policy=Policy(max_attempts=1))
        plain.run_once()  # without STARTTLS the server refuses the message
        assert received == [] and {row.status for row in outbox(db, channel="email")} == {"failed"}
        with db.transaction() as session:
            for row in session.scalars(select(Notification)):
                row.status, row.attempts = "pending", 0
        Worker(db, smtp(port, starttls=True, ca_file=str(cert)), SITE).drain()
        assert received and all(received)
        assert {row.status for row in outbox(db, channel="email")} == {"sent"}
    finally:
        controller.stop()


def test_a_running_worker_beats_and_the_metrics_show_its_outbox(app, db, reachable, tmp_path):
    waiting = len(write(db, 1))
    metrics = app.test_client()

    def scrape() -> str:
        return metrics.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)

    assert f'incident_notifications{{state="pending"}} {waiting}.0' in scrape()
    stop = threading.Event()
    worker = Worker(db, {"email": MailSink(tmp_path / "mail", "incidents@example.com")}, SITE)
    thread = threading.Thread(target=run_forever, args=(worker, 0.05, stop), kwargs={"jobs": [Heartbeat(db, "notify")]})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while {row.status for row in outbox(db, channel="email")} != {"sent"} and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    page = scrape()
    assert 'incident_notifications{state="pending"} 0.0' in page and "incident_notification_lag_seconds 0.0" in page
    assert 'incident_worker_heartbeat_age_seconds{kind="notify"}' in page
