"""Scale-out: two app servers and two timer workers (real processes on loopback) share one PostgreSQL
under concurrent load. Service-desk clients on both servers register emergencies; incident
managers on both servers race to complete the same fault notifications while the workers (and the
servers' own sweepers) fire the notification timers and check and seal the audit log. Afterwards: no
5xx; every successful request did exactly its action once (its request id is on its audit rows) and
every refused one did nothing; no timer fired twice and none is left due; every incident is
consistent; the audit log verifies against the checkpoints the workers wrote side by side.

Bounded: the test body (sign-ins to the last check) must end within DEADLINE, on the real clock
(the processes run on it: nothing here is frozen). Cheap: four registrations per server, the four
browsers sign in side by side, and the wait for the timers ends as soon as every one has fired.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit import SYSTEM
from app.audit.verification import verify
from app.models import AuditEvent, Incident, OpenTask, WorkerHeartbeat, utcnow
from app.process import versions
from tests.conftest import AUDIT_KEY, FAST_HASH
from tests.fuzzing import check_integrity

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 90  # seconds for the test body; about 30 on the shared 2-core machine at a load average of 10
STARTUP = 120  # seconds for the four processes to start: 45 at a load average of 15 (each imports the app)
REGISTRATIONS = 4  # per service-desk client (one client per server)
NOTIFICATION_WINDOW_SECONDS = 3
TIMED = {n for n in range(1, 2 * REGISTRATIONS + 1) if n % 3 == 0}  # incidents whose notification is left undone
GONE = "此任务已完成，或已不存在。"  # the warning after a redirect: someone else was first
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EMERGENCY = {
    "incident.title": "核心计费中断",
    "incident.description": "全省无法缴费",
    "incident.source": "monitoring",
    "facts.type": "fault",
    "facts.fault_category": "application",
    "facts.complaints": "120",  # orange: an emergency with a fault notification owed (rule E1)
    "facts.hq_consequence": "none",
    "facts.core_business_impact": "no",
}
NOTIFICATION = {"spec_id": "notify_fault", "notification.channels": "sms",
                "notification.recipients": "省公司值班", "notification.content": "核心计费中断通报"}  # fmt: skip


def left_to_the_timers(incident_id: int) -> bool:
    """Every third incident's notification is left undone: its timer must fire, once."""
    return incident_id in TIMED


class Browser:
    """One signed-in user on one server: cookies, CSRF token, and every answer it got."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )
        self.answers: list[tuple[str, str, int, bool]] = []  # (what, request id, status, done)
        self.token = ""
        self.get("/login")
        status, _ = self.post("/login", {"username": username, "password": "password123"}, "sign-in")
        assert status == 302, f"{username} could not sign in on {base}"
        self.get("/login")

    def get(self, path: str) -> str:
        for _ in range(3):  # follow redirects (to the signed-in user's home page, say)
            try:
                with self.opener.open(self.base + path, timeout=20) as response:
                    page = response.read().decode()
                break
            except urllib.error.HTTPError as error:
                if error.code != 302:
                    raise
                path = error.headers["Location"]
        found = CSRF.search(page)
        self.token = found.group(1) if found else self.token
        return page

    def post(self, path: str, form: dict[str, str], what: str) -> tuple[int, str]:
        """Post a form; it was done if the answer is a redirect to a page that does not say it was not."""
        request_id = uuid.uuid4().hex
        data = urllib.parse.urlencode({**form, "csrf_token": self.token}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"X-Request-ID": request_id})
        try:
            with self.opener.open(request, timeout=20) as response:
                status, location = response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            status, location = error.code, error.headers.get("Location", "")
        done = status == 302 and GONE not in (self.get(location) if location.startswith("/") else "")
        self.answers.append((what, request_id, status, done))
        return status, location


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is the answer we check


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, until: float, processes: list[subprocess.Popen]) -> None:
    while time.monotonic() < until:
        assert all(process.poll() is None for process in processes), "a process ended at start-up (its log below)"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture
def cluster(db, actors, database_url, tmp_path):
    if not db.is_postgresql:
        pytest.skip("several app processes share PostgreSQL; SQLite is one writer on one host")
    with db.transaction() as session:  # not the `service` fixture: its frozen clock is not the servers'
        versions.publish_bundled_if_none(session, SYSTEM)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "scale-out",
        "AUDIT_HMAC_KEY": AUDIT_KEY,
        "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "AUDIT_VERIFY_SECONDS": "2",
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "NOTIFICATION_WINDOW_MINUTES": str(NOTIFICATION_WINDOW_SECONDS / 60),
        "TIMER_INTERVAL_SECONDS": "1",
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    ports = [free_port(), free_port()]
    logs = [open(tmp_path / f"process-{n}.log", "w") for n in range(4)]  # noqa: SIM115 — closed below
    commands = [flask + ["run", "--port", str(port), "--no-reload", "--no-debugger"] for port in ports]
    commands += [flask + ["timers", "run", "--interval", "0.5"]] * 2
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                 for command, log in zip(commands, logs, strict=True)]  # fmt: skip
    try:
        until = time.monotonic() + STARTUP
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz", until, processes)
        yield [f"http://127.0.0.1:{port}" for port in ports], tmp_path / "checkpoints"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
        failed = [Path(log.name).read_text()[-3000:] for log in logs if "Traceback" in Path(log.name).read_text()]
        assert not failed, "a process failed:\n" + "\n".join(failed)


@pytest.mark.long
def test_two_servers_and_two_workers_lose_nothing_and_do_nothing_twice(cluster, db):
    began = time.monotonic()
    servers, checkpoints = cluster
    with ThreadPoolExecutor(4) as pool:  # each sign-in is three requests: all four at once
        desks = list(pool.map(Browser, servers, ["service_desk"] * 2))
        managers = list(pool.map(Browser, servers, ["incident_manager"] * 2))
    done = threading.Event()

    def register(desk: Browser) -> None:
        for _ in range(REGISTRATIONS):
            desk.post("/incidents/new", EMERGENCY, "register")

    def notify(manager: Browser) -> None:
        """Both managers go for the same notifications in the same order: one of each pair must lose."""
        tried: set[str] = set()
        while not done.is_set():
            with db.read() as session:
                tasks = session.execute(select(OpenTask.incident_id, OpenTask.id).where(
                    OpenTask.spec_id == "notify_fault").order_by(OpenTask.incident_id)).all()  # fmt: skip
            for incident_id, task_id in tasks:
                if task_id not in tried and not left_to_the_timers(incident_id):
                    manager.post(f"/tasks/{incident_id}/{task_id}", NOTIFICATION, f"notify:{task_id}")
                tried.add(task_id)
            time.sleep(0.2)

    threads = [threading.Thread(target=register, args=(desk,)) for desk in desks]
    threads += [threading.Thread(target=notify, args=(manager,)) for manager in managers]
    for thread in threads:
        thread.start()
    for thread in threads[:2]:
        thread.join(timeout=DEADLINE)
    # let every notification window pass and the workers fire what is left to them
    until = began + DEADLINE - 8
    while time.monotonic() < until:
        with db.read() as session:
            due = session.scalar(select(Incident.id).where(Incident.next_timer_due <= utcnow()).limit(1))
            open_ = session.scalars(select(OpenTask.incident_id).where(OpenTask.spec_id == "notify_fault"))
            pending = [incident_id for incident_id in open_ if not left_to_the_timers(incident_id)]
            timer_rows = select(AuditEvent.incident_id).where(AuditEvent.kind == "notification_overdue")
            fired = set(session.scalars(timer_rows))
        if due is None and not pending and TIMED <= fired:
            break
        time.sleep(0.5)
    done.set()
    for thread in threads[2:]:
        thread.join(timeout=10)

    answers = [answer for browser in desks + managers for answer in browser.answers]
    assert not [answer for answer in answers if answer[2] >= 500], "a server failed"
    with db.read() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        incidents = list(session.scalars(select(Incident)))
        workers = list(session.scalars(select(WorkerHeartbeat.name).where(WorkerHeartbeat.kind == "timer")))
    by_request = Counter((event.request_id, event.kind) for event in events)

    # registrations: every accepted one made exactly one incident, nothing else made any
    registered = [answer for answer in answers if answer[0] == "register"]
    assert len(registered) == 2 * REGISTRATIONS and all(done for *_, done in registered)
    assert len(incidents) == 2 * REGISTRATIONS and all(incident.emergency for incident in incidents)
    assert sorted(by_request[(request_id, "started")] for _, request_id, _, _ in registered) == [1] * 2 * REGISTRATIONS

    # notifications: per task at most one completion, each from an accepted request; refused ones did nothing
    completions = Counter(event.task_id for event in events if event.kind == "task_completed"
                          and event.data.find('"spec_id":"notify_fault"') >= 0)  # fmt: skip
    assert set(completions.values()) <= {1}
    for what, request_id, status, done in answers:
        if what.startswith("notify:"):
            assert by_request[(request_id, "task_completed")] == (1 if done else 0), (what, status)
    accepted = {what.split(":")[1] for what, _, _, done in answers if what.startswith("notify:") and done}
    assert accepted == set(completions), "a completion was lost or came from nowhere"
    raced = Counter(what for what, *_ in answers if what.startswith("notify:"))
    assert any(count == 2 for count in raced.values()), "the managers never raced for a task"

    # timers: fired at most once per incident, and nothing left due or undone
    overdue = Counter(event.incident_id for event in events if event.kind == "notification_overdue")
    assert set(overdue.values()) <= {1}, "a timer fired twice"
    assert {i.id for i in incidents if left_to_the_timers(i.id)} <= set(overdue), "a timer did not fire"
    now = utcnow()
    assert not [i.number for i in incidents if i.next_timer_due is not None and i.next_timer_due <= now]

    # every incident consistent, every chain intact, sealed side by side by two workers
    assert check_integrity(db) == []
    with db.read() as session:
        result = verify(session, AUDIT_KEY.encode(), checkpoints)
    assert result.ok and result.checkpoint and result.checkpoint >= 2, result
    assert len(workers) >= 2  # both workers (and the servers' sweepers) reported
    assert time.monotonic() - began < DEADLINE
