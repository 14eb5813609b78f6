"""Shared by bench/throughput.py and bench/soak.py: a gunicorn server on loopback, incidents to work
on, and clients that complete tasks the way a browser does.

Every incident is worked by one client only (its own), looping first line resolves → the requester
rejects → first line resolves …, so clients never conflict and the load never runs out.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

import psycopg
from sqlalchemy import select, text

from app import migrate
from app.audit import SYSTEM, Actor
from app.db import Database
from app.incidents.service import IncidentService
from app.models import OpenTask
from app.process import versions
from app.users import actor_of, create_user
from bench.action_cost import AUDIT_KEY, PATH, REGISTRATION

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
FAST_HASH = "pbkdf2:sha256:1"  # sign-in is not what is measured
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = {"first_line_handling": "confirm_resolution", "confirm_resolution": "first_line_handling"}  # the loop worked
FORMS = {
    "first_line_handling": {"handling.outcome": "resolved", "handling.solution_kind": "resolved",
                            "handling.solution": "修复了接口配置"},
    "confirm_resolution": {"confirmation.resolved": "false", "confirmation.comment": "仍有报错"},
}  # fmt: skip


def prepare(url: str, clients: int, per_client: int) -> tuple[Database, list[list[int]]]:
    """A migrated database, one account per client (first line and requester of its incidents), and
    `per_client` incidents each, waiting at first-line handling."""
    migrate.upgrade(url)
    db = Database(url, audit_key=AUDIT_KEY)
    service = IncidentService(db)
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
        desk = actor_of(create_user(session, "bench_desk", PASSWORD, ["service_desk"], "服务台", hash_method=FAST_HASH))
        workers = [
            actor_of(create_user(session, f"bench{n}", PASSWORD, ["first_line", "requester"], f"压测{n}",
                                 hash_method=FAST_HASH))
            for n in range(clients)
        ]  # fmt: skip
    owned = [[new_incident(service, desk, worker.user_id) for _ in range(per_client)] for worker in workers]
    return db, owned


def new_incident(service: IncidentService, desk: Actor, requester_id: int) -> int:
    """An incident of `requester_id`'s, registered by `desk` and passed on: waiting at first-line handling."""
    incident_id = service.start(desk, requester_id=requester_id, registration=REGISTRATION)
    service.complete_task(desk, incident_id, next_task(service.db, incident_id)[0], PATH[0][2])
    return incident_id


def next_task(db: Database, incident_id: int) -> tuple[str, str]:
    with db.read() as session:
        row = session.execute(select(OpenTask.id, OpenTask.spec_id).where(OpenTask.incident_id == incident_id)).first()
        return row[0], row[1]


class NextTasks:
    """A client's look-up of its incident's open task, on a connection of its own (autocommit, one prepared
    statement): the clients share the machine with the server they measure, so theirs stays small — through
    the app's ORM session it cost a client ~1.2 ms of CPU per completion, twice the rest of its work."""

    def __init__(self, url: str):
        self.connection = psycopg.connect(url, autocommit=True)

    def __call__(self, incident_id: int) -> str:
        query = "SELECT id FROM open_tasks WHERE incident_id = %s"
        return self.connection.execute(query, (incident_id,), prepare=True).fetchone()[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(url: str, port: int, workers: int, threads: int, log: IO | None = None, **settings: str) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port` running wsgi:app against `url` (and app `settings`), its log (a JSON
    line per request) to `log` (default: this process's stderr); returns once it answers."""
    env = dict(
        os.environ,
        **settings,
        DATABASE_URL=url,
        SECRET_KEY="bench",
        PASSWORD_HASH_METHOD=FAST_HASH,
        AUDIT_HMAC_KEY=AUDIT_KEY.decode(),
        AUDIT_CHECKPOINT_DIR=tempfile.mkdtemp(prefix="bench-checkpoints-"),
    )
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                if len(worker_pids(server)) == workers:  # every worker forked, not only the first
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def worker_pids(server: subprocess.Popen) -> list[int]:
    """The gunicorn workers: the children of the master process."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far (those that are gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (in clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def backend_pids(db: Database) -> list[int]:
    """The PostgreSQL server processes of the database's connections (on this machine: loopback only)."""
    with db.read() as session:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return list(session.scalars(query))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def exchange(
    connection: http.client.HTTPConnection, method: str, path: str, body: str | None, headers: dict[str, str]
) -> http.client.HTTPResponse:
    """Send a request and take the answer's head, on a connection opened again if the server closed it while
    it was idle (gthread workers close a keep-alive connection after `--keep-alive` seconds; sync ones answer
    each request with `Connection: close`, which http.client follows by itself)."""
    try:
        connection.request(method, path, body=body, headers=headers)
        return connection.getresponse()
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        connection.close()  # nothing was answered: the server had closed the connection before reading it
        connection.request(method, path, body=body, headers=headers)
        return connection.getresponse()


class Client:
    """One signed-in browser on a keep-alive connection."""

    def __init__(self, port: int, username: str, password: str = PASSWORD):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.get("/login")
        status, _ = self.post("/login", {"username": username, "password": password})
        if status != 302:
            raise RuntimeError(f"sign-in of {username} answered {status}")
        self.get("/login")  # a token for the signed-in session

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = exchange(self.connection, method, path, body, headers)
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        found = CSRF.search(text)
        if found:
            self.token = found.group(1)
        return response.status, text

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        return self.request("POST", path, urlencode({**fields, "csrf_token": self.token}))

    def complete(self, incident_id: int, task_id: str, spec_id: str, *, browse: bool) -> None:
        """Complete one task: as a browser does (open the incident, open the task, post the form), or
        the form POST alone."""
        if browse:
            status, page = self.get(f"/incidents/{incident_id}")
            found = re.search(rf"/tasks/{incident_id}/([0-9a-f-]{{36}})", page)
            if status != 200 or found is None:
                raise RuntimeError(f"incident page {incident_id} answered {status} without a task link")
            task_id = found.group(1)
            status, _ = self.get(f"/tasks/{incident_id}/{task_id}")
            if status != 200:
                raise RuntimeError(f"task page answered {status}")
        status, page = self.post(f"/tasks/{incident_id}/{task_id}", {**FORMS[spec_id], "spec_id": spec_id})
        if status != 302:
            raise RuntimeError(f"posting {spec_id} of {incident_id} answered {status}: {page[:300]}")


class ApiClient:
    """One API caller (`Authorization: Bearer`) on a keep-alive connection."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def complete(self, incident_id: int, task_id: str, answers: dict) -> str | None:
        """Complete a task; the id of the next one this caller may work, as the answer lists it."""
        path = f"/api/v1/tasks/{incident_id}/{task_id}/complete"
        response = exchange(self.connection, "POST", path, json.dumps(answers), self.headers)
        text = response.read().decode()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {text[:300]}")
        return next((task["id"] for task in json.loads(text)["open_tasks"] if task["may_work"]), None)
