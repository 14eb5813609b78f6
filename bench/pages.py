"""How long every list, inbox, search, history, audit and report page takes, against a filled database.

Run (a database filled by bench/fill.py):
`.venv/bin/python bench/pages.py --database postgresql://postgres@127.0.0.1:5432/bench_pages [--requests 20]
 [--only inbox] [--explain]`

gunicorn (one sync worker, so one process serves every page) on 127.0.0.1 against the database;
each demo role signs in and requests its pages `--requests` times after one warm-up request (after
which the repeat groups a big report period asked for are computed here, as the timer worker would).
Prints per page: status, p50 and p95 in milliseconds, the size of the answer, its table rows
(`<tr>` in HTML, lines in a CSV, items in JSON), then the worker's RSS after the run.

`--cpu` instead requests each page `--requests` times in this process (Flask test client) and prints
the median CPU time (`time.process_time`) and wall time per request: what the code costs, which a
loaded machine's queue does not change much. `--save DIR` writes each page's last answer there (to
compare the HTML of two checkouts on the same database). `--unkept` makes the incidents' version the
reports' kept figures are read for (`report_figures.incidents_version`) new at each request (also with
`--sql` and `--explain`), as if an incident had changed before it: what the first page after a change to any
incident costs.

`--sql` instead requests each page `--requests` times in this process and prints the median of the server's
execution time of its SELECTs (each run again under EXPLAIN ANALYZE on a second cursor of its transaction):
the database's work per page, which a loaded machine changes little.

`--explain` instead requests each page once in this process (Flask test client) while recording
its SQL, then prints EXPLAIN (ANALYZE, BUFFERS) of the page's slowest statements (PostgreSQL).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app runs from the checkout

from sqlalchemy import event, func, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app.api import tokens  # noqa: E402
from app.db import Database  # noqa: E402
from app.demo import DEMO_PASSWORD  # noqa: E402
from app.incidents.projection import ACTIVE_STATUSES  # noqa: E402
from app.models import AuditEvent, Incident, User, utcnow  # noqa: E402
from app.reports.stored_repeats import compute_requested  # noqa: E402
from app.search import similar  # noqa: E402
from app.tallies import service as tallies  # noqa: E402
from app.users import actor_of  # noqa: E402
from app.web import report_figures  # noqa: E402
from bench.action_cost import AUDIT_KEY  # noqa: E402
from bench.http_load import FAST_HASH, Client, free_port, rss_mb, serve, stop, worker_pids  # noqa: E402


@dataclass(frozen=True)
class Page:
    user: str
    path: str
    name: str
    bearer: bool = False  # an API call with the user's token instead of the session


def pages(db: Database) -> list[Page]:
    """Every list-like page of every role, with ids taken from the filled database."""
    with db.read() as session:
        newest_open = session.scalar(select(func.max(Incident.id)).where(Incident.status.in_(ACTIVE_STATUSES)))
        oldest = session.scalar(select(Incident.id).order_by(Incident.created_at).limit(1))
        longest = session.execute(
            select(AuditEvent.incident_id).where(AuditEvent.incident_id.is_not(None))
            .group_by(AuditEvent.incident_id).order_by(func.count().desc()).limit(1)
        ).scalar()  # fmt: skip
    today = utcnow().date()
    month = f"from={today - timedelta(days=30)}&to={today}"
    year = f"from={today - timedelta(days=364)}&to={today}"
    return [
        Page("wangfang", "/inbox", "desk inbox"),
        Page("wangfang", "/inbox?page=3", "desk inbox, page 3"),
        Page("wangfang", "/inbox?page=20", "desk inbox, page 20"),
        Page("wangfang", "/inbox?mine=1", "desk inbox, mine"),
        Page("liuyang", "/inbox", "first-line inbox"),
        Page("liuyang", "/inbox?type=fault&level=yellow", "first-line inbox, filtered"),
        Page("chenjie", "/inbox", "second-line inbox"),
        Page("sunli", "/inbox", "manager inbox"),
        Page("sunli", "/manager/", "manager console"),
        Page("sunli", "/problems/", "problem list"),
        Page("wangfang", "/incidents/", "incident list"),
        Page("wangfang", "/incidents/?page=50", "incident list, page 50"),
        Page("wangfang", "/incidents/?status=open", "incident list, open"),
        Page("liuyang", "/incidents/?q=" + quote("余额"), "incident list, text"),
        Page("zhouqiang", "/incidents/?breached=1", "incident list, breached"),
        Page("wangfang", f"/incidents/{newest_open}", "incident page"),
        Page("wangfang", "/search/?q=" + quote("余额 查询"), "search, two terms"),
        Page("wangfang", "/search/?q=" + quote("计费话单处理"), "search, one long term"),
        Page("wangfang", "/search/similar?title=" + quote("余额查询很慢"), "similar incidents"),
        Page("zhangwei", "/portal/", "portal"),
        Page("wujing", "/audit/", "audit search"),
        Page("wujing", "/audit/?page=100", "audit search, page 100"),
        Page("wujing", "/audit/?person=" + quote("刘洋"), "audit search, by person"),
        Page("wujing", "/audit/?role=second_line_dev&type=fault", "audit search, by role"),
        Page("wujing", f"/audit/?from={today}&to={today}", "audit search, today"),
        Page("wujing", f"/audit/export.csv?from={today}&to={today}", "audit CSV, today"),
        Page("wujing", f"/audit/incidents/{longest}", "audit history"),
        Page("wujing", f"/audit/incidents/{oldest}", "audit history, oldest"),
        Page("admin", "/admin/users", "accounts"),
        Page("wangfang", "/notifications/", "notifications"),
        Page("zhengtao", "/process/", "process versions"),
        Page("wangfang", "/api/v1/tasks", "API my tasks", bearer=True),
        Page("wangfang", "/api/v1/incidents", "API incidents", bearer=True),
        Page("zhouqiang", "/overview/", "overview"),
        Page("zhouqiang", "/reports/", "reports, this month"),
        Page("zhouqiang", f"/reports/?{month}", "reports, 30 days"),
        Page("zhouqiang", f"/reports/?{year}", "reports, 12 months"),
        Page("zhouqiang", f"/reports/workload_by_person.csv?{month}", "workload CSV, 30 days"),
        Page("zhouqiang", f"/reports/repeats.csv?{month}", "repeats CSV, 30 days"),
    ]


def rows_of(body: bytes, content_type: str) -> int:
    if "json" in content_type:
        data = json.loads(body)
        return len(data.get("items", [])) if isinstance(data, dict) else len(data)
    if "csv" in content_type:
        return max(body.count(b"\n") - 1, 0)
    return body.count(b"<tr") - body.count(b"<thead") + body.count(b'data-testid="hit"')


def api_token(db: Database, username: str) -> str:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        return tokens.create(session, actor_of(user), user, "bench/pages.py", [tokens.READ], utcnow()).secret


class TokenClient(Client):
    def __init__(self, port: int, secret: str):  # no sign-in: the token is the caller
        import http.client

        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies, self.token, self.secret = {}, "", secret

    def raw(self, path: str) -> tuple[int, bytes, str]:
        self.connection.request("GET", path, headers={"Authorization": f"Bearer {self.secret}"})
        response = self.connection.getresponse()
        return response.status, response.read(), response.headers.get("Content-Type", "")


def raw_get(client: Client, path: str) -> tuple[int, bytes, str]:
    if isinstance(client, TokenClient):
        return client.raw(path)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    client.connection.request("GET", path, headers=headers)
    response = client.connection.getresponse()
    return response.status, response.read(), response.headers.get("Content-Type", "")


def measure(args: argparse.Namespace, chosen: list[Page], db: Database) -> None:
    os.environ.setdefault("API_RATE_LIMIT", "100000 per minute")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no line per request on the terminal
    port = free_port()
    server = serve(args.database, port, 1, 1)
    clients: dict[tuple[str, bool], Client] = {}
    try:
        worker = worker_pids(server)[0]
        print(f"worker RSS at start {rss_mb(worker):.0f} MB; load average {os.getloadavg()[0]:.1f}")
        print(f"{'page':<30} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'KB':>8} {'rows':>6}")
        for page in chosen:
            key = (page.user, page.bearer)
            if key not in clients:
                clients[key] = TokenClient(port, api_token(db, page.user)) if page.bearer else \
                    Client(port, page.user, DEMO_PASSWORD)  # fmt: skip
            client = clients[key]
            status, body, kind = raw_get(client, page.path)  # warm-up: caches, connections
            grouping(db)  # a big report period's repeat groups: what the timer worker does after a sweep
            times = []
            for _ in range(args.requests):
                start = time.perf_counter()
                status, body, kind = raw_get(client, page.path)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(f"{page.name:<30} {status:>6} {statistics.median(times):>8.1f} {p95:>8.1f} "
                  f"{len(body) / 1024:>8.1f} {rows_of(body, kind):>6}", flush=True)  # fmt: skip
        print(f"worker RSS after the run {rss_mb(worker):.0f} MB; load average {os.getloadavg()[0]:.1f}")
    finally:
        stop(server)


def grouping(db: Database) -> None:
    """Group the repeat incidents the pages asked for (`ComputeRequested` of the timer worker), timed."""
    start = time.perf_counter()
    done = compute_requested(db, ZoneInfo("Asia/Shanghai"))
    if done:
        print(f"  (timer worker: {done} repeat grouping(s) in {time.perf_counter() - start:.1f} s)", flush=True)


def changing_incidents() -> None:
    """From now on, an incident changed before each page (`--unkept`): the reports' figures a worker keeps
    of the incidents are read again, what does not depend on them (the stored repeat groups) is not."""
    real, changes = report_figures.incidents_version, itertools.count()
    report_figures.incidents_version = lambda session: f"{real(session)}+{next(changes)}"


def in_process(args: argparse.Namespace):
    from app import create_app

    return create_app({"DATABASE_URL": args.database, "SECRET_KEY": "bench", "AUDIT_HMAC_KEY": AUDIT_KEY.decode(),
                       "LOG_LEVEL": "WARNING",
                       "PASSWORD_HASH_METHOD": FAST_HASH, "API_RATE_LIMIT": "100000 per minute"})  # fmt: skip


def signed_in(app, db: Database, page: Page, secrets: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """A test client of `app` as the page's user, and the headers of its requests."""
    client = app.test_client()
    if page.bearer:
        secrets.setdefault(page.user, api_token(db, page.user))
        return client, {"Authorization": f"Bearer {secrets[page.user]}"}
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": page.user, "password": DEMO_PASSWORD, "csrf_token": token})
    return client, {}


def cpu(args: argparse.Namespace, chosen: list[Page], db: Database) -> None:
    """Each page `--requests` times in this process: median CPU and wall time per request."""
    app, secrets = in_process(args), {}
    if args.unkept:
        changing_incidents()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'page':<30} {'status':>6} {'CPU ms':>8} {'wall ms':>8} {'KB':>8} {'rows':>6}")
    for page in chosen:
        client, headers = signed_in(app, db, page, secrets)
        response = client.get(page.path, headers=headers, buffered=True)  # warm-up
        grouping(db)
        spent, waited = [], []
        for _ in range(args.requests):
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            response = client.get(page.path, headers=headers, buffered=True)  # a streamed CSV read whole
            body = response.get_data()
            spent.append((time.process_time() - cpu_start) * 1000)
            waited.append((time.perf_counter() - wall_start) * 1000)
        print(f"{page.name:<30} {response.status_code:>6} {statistics.median(spent):>8.1f} "
              f"{statistics.median(waited):>8.1f} {len(body) / 1024:>8.1f} "
              f"{rows_of(body, response.content_type):>6}", flush=True)  # fmt: skip
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            (Path(args.save) / (page.name.replace(" ", "_").replace(",", "") + ".out")).write_bytes(body)
    print(f"load average {os.getloadavg()[0]:.1f}")


def sql_time(args: argparse.Namespace, chosen: list[Page], db: Database) -> None:
    """Each page `--requests` times in this process: the median over requests of the server's execution time
    of the page's SELECTs, each run again under EXPLAIN ANALYZE on a second cursor of its transaction (so its
    SET LOCALs apply) — the database's work, which a loaded machine's queue changes little."""
    app, secrets = in_process(args), {}
    if args.unkept:
        changing_incidents()
    spent: list[float] = []
    busy = [False]

    def after(connection, _cursor, statement, params, _context, _many):
        if busy[0] or not statement.lstrip().upper().startswith(("SELECT", "(SELECT")):
            return
        busy[0] = True
        try:
            cursor = connection.connection.dbapi_connection.cursor()
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
            spent.append(cursor.fetchone()[0][0]["Execution Time"])
            cursor.close()
        finally:
            busy[0] = False

    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'page':<30} {'status':>6} {'SQL ms':>8} {'SELECTs':>8}")
    for page in chosen:
        client, headers = signed_in(app, db, page, secrets)
        client.get(page.path, headers=headers)  # warm-up
        grouping(db)
        event.listen(Engine, "after_cursor_execute", after)
        totals = []
        for _ in range(args.requests):
            spent.clear()
            response = client.get(page.path, headers=headers, buffered=True)
            totals.append(sum(spent))
        event.remove(Engine, "after_cursor_execute", after)
        median = statistics.median(totals)
        print(f"{page.name:<30} {response.status_code:>6} {median:>8.2f} {len(spent):>8}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


def explain(args: argparse.Namespace, chosen: list[Page], db: Database) -> None:
    """Each page once in this process; EXPLAIN ANALYZE of its slowest statements."""
    app = in_process(args)
    if args.unkept:
        changing_incidents()
    sent: list[tuple[float, str, Any]] = []
    started: dict[int, float] = {}

    def before(_conn, cursor, _statement, _params, _context, _many):
        started[id(cursor)] = time.perf_counter()

    def after(_conn, cursor, statement, params, _context, _many):
        sent.append(((time.perf_counter() - started.pop(id(cursor), time.perf_counter())) * 1000, statement, params))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    secrets: dict[str, str] = {}
    for page in chosen:
        client, headers = signed_in(app, db, page, secrets)
        client.get(page.path, headers=headers)  # warm-up
        grouping(db)
        sent.clear()
        start = time.perf_counter()
        response = client.get(page.path, headers=headers)
        total = (time.perf_counter() - start) * 1000
        in_sql = sum(ms for ms, _s, _p in sent)
        print(f"\n=== {page.name}: {page.path} → {response.status_code}, {total:.0f} ms, "
              f"{len(sent)} statements, {in_sql:.0f} ms in the database driver")  # fmt: skip
        for ms, statement, params in sorted(sent, key=lambda item: -item[0])[: args.slowest]:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            print(f"--- {ms:.1f} ms: {' '.join(statement.split())[:300]}")
            if db.is_postgresql:
                with db.engine.connect() as connection:
                    cursor = connection.connection.cursor()
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                    print("\n".join("    " + row[0] for row in cursor.fetchall()))
                    connection.rollback()
    event.remove(Engine, "before_cursor_execute", before)
    event.remove(Engine, "after_cursor_execute", after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a database filled by bench/fill.py")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument(
        "--only", default="", help="only pages whose name or path contains this; several, comma-separated"
    )
    parser.add_argument(
        "--skip",
        default="",
        help="leave out pages whose name contains this; several, comma-separated "
        "(e.g. 'reports,30 days' leaves the reports side out)",
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest statements")
    parser.add_argument("--slowest", type=int, default=3, help="with --explain: how many statements per page")
    parser.add_argument("--cpu", action="store_true", help="CPU and wall time per request, in this process")
    parser.add_argument("--sql", action="store_true", help="the server's execution time of each page's SELECTs")
    parser.add_argument("--save", default="", help="with --cpu: write each page's answer into this directory")
    parser.add_argument(
        "--unkept",
        action="store_true",
        help="with --cpu, --sql or --explain: an incident changed before each request "
        "(the reports read their figures again)",
    )
    args = parser.parse_args()
    db = Database(args.database, audit_key=AUDIT_KEY)
    with db.read() as session:
        counts = session.execute(text("SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM audit_events)"))
        incidents, audit_rows = counts.one()
    print(f"{incidents} incidents, {audit_rows} audit rows")
    wanted = [part.strip() for part in args.only.split(",") if part.strip()] or [""]
    chosen = [page for page in pages(db) if any(part in page.name or part in page.path for part in wanted)]
    skipped = [part.strip() for part in args.skip.split(",") if part.strip()]
    chosen = [page for page in chosen if not any(part in page.name for part in skipped)]
    tallies.count(db)  # the overview's breakdowns, as the timer worker counts them every TALLY_SECONDS
    similar.fold(db)  # the similar incidents' distinct texts, as the timer worker folds them in after each sweep
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server on the way out
    (explain if args.explain else cpu if args.cpu else sql_time if args.sql else measure)(args, chosen, db)


if __name__ == "__main__":
    main()
