"""Incident and task pages saved as their readers get them, to compare two checkouts byte for byte.

Run (PostgreSQL: a copy of a filled database, e.g. `create database bench_pages template bench_lists_10k`;
a fresh copy for each checkout, as the refused POSTs below could change what a later page shows):
`.venv/bin/python bench/page_snapshots.py --database postgresql://postgres@127.0.0.1:5432/bench_pages --out DIR`
then `diff -r BEFORE AFTER`.

At a frozen instant (deadlines and "time left" read the same every run), in this process (Flask's test
client): six demo readers (first line, service desk, incident manager, leadership, auditor, and a second-line
account reading in English) open 10 incidents of each status — each incident page whole and with the
timeline's notes filter, and each open task's page; the first line posts an empty form to the open tasks of
12 incidents waiting for a handler (refused: the page again, with its messages); the service desk and a
requester open and post empty registration forms; the requester opens their own incidents and tasks. CSRF
tokens are masked. One file per page: its status line, then the HTML.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app runs from the checkout

from freezegun import freeze_time  # noqa: E402
from sqlalchemy import text  # noqa: E402
from werkzeug.test import TestResponse  # noqa: E402

from app import create_app  # noqa: E402
from app.demo import DEMO_PASSWORD  # noqa: E402
from bench.action_cost import AUDIT_KEY  # noqa: E402
from bench.http_load import FAST_HASH  # noqa: E402

TOKEN = re.compile(r'(name="csrf_token" value="|name="csrf-token" content=")([^"]+)"')
READERS = (("liuyang", None), ("wangfang", None), ("sunli", None), ("zhouqiang", None), ("wujing", None),
           ("chenjie", "en"))  # fmt: skip
SAMPLE = """select id from (select id, row_number() over (partition by status order by id) as n from incidents) as s
            where n % 7 = 1 and n <= 70 order by id"""
HANDLED = "select incident_id from open_tasks where lane <> 'requester' group by 1 order by 1 limit 30"
TASKS = "select incident_id, id from open_tasks where incident_id = any(:ids) order by incident_id, created_at"
OWN = """select i.id from incidents i join users u on u.id = i.requester_id where u.username = 'zhangwei'
         order by i.id limit 12"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL of a filled database (a copy)")
    parser.add_argument("--out", type=Path, required=True, help="a folder for the pages")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with freeze_time("2026-12-01 16:30:00", tick=False):
        app = create_app({"DATABASE_URL": args.database, "SECRET_KEY": "bench", "AUDIT_HMAC_KEY": AUDIT_KEY.decode(),
                          "LOG_LEVEL": "WARNING", "PASSWORD_HASH_METHOD": FAST_HASH,
                          "AUDIT_CHECKPOINT_DIR": tempfile.mkdtemp()})  # fmt: skip
        with app.extensions["db"].read() as session:
            sample = list(session.scalars(text(SAMPLE)))
            handled = list(session.scalars(text(HANDLED)))
            own = list(session.scalars(text(OWN)))
            tasks: dict[int, list[str]] = {}
            for incident_id, task_id in session.execute(text(TASKS), {"ids": sample + handled + own}):
                tasks.setdefault(incident_id, []).append(task_id)
        saved = Saver(args.out)
        for user, locale in READERS:
            client = signed_in(app, user, locale, f"/incidents/{sample[0]}")
            for incident_id in sample:
                saved(f"{user}-incident-{incident_id}", client.get(f"/incidents/{incident_id}"))
                saved(f"{user}-incident-{incident_id}-notes", client.get(f"/incidents/{incident_id}?timeline=notes"))
                for task_id in tasks.get(incident_id, []):
                    saved(f"{user}-task-{incident_id}-{task_id}", client.get(f"/tasks/{incident_id}/{task_id}"))
        client = signed_in(app, "liuyang", None, f"/incidents/{sample[0]}")
        for incident_id in handled[:12]:
            for task_id in tasks[incident_id]:
                path = f"/tasks/{incident_id}/{task_id}"
                saved(f"liuyang-post-{incident_id}-{task_id}", client.post(path, data={"csrf_token": client.token}))
        for user, path in (("wangfang", "/incidents/new"), ("zhangwei", "/portal/new")):
            client = signed_in(app, user, None, path)
            saved(f"{user}-new", client.get(path))
            saved(f"{user}-new-refused", client.post(path, data={"csrf_token": client.token}))
        client = signed_in(app, "zhangwei", None, "/portal/")
        for incident_id in own:
            saved(f"zhangwei-incident-{incident_id}", client.get(f"/incidents/{incident_id}"))
            for task_id in tasks.get(incident_id, []):
                saved(f"zhangwei-task-{incident_id}-{task_id}", client.get(f"/tasks/{incident_id}/{task_id}"))
    print(f"{saved.count} pages in {args.out}")


class Saver:
    def __init__(self, out: Path):
        self.out, self.count = out, 0

    def __call__(self, name: str, response: TestResponse) -> None:
        page = TOKEN.sub(r'\1-"', response.get_data(as_text=True))
        (self.out / f"{name}.html").write_text(f"{response.status_code}\n{page}")
        self.count += 1


def signed_in(app, user: str, locale: str | None, page: str):
    """A test client signed in as `user` (reading in `locale`), with the CSRF token of its session."""
    client = app.test_client()
    client.token = token_of(client, "/login")
    client.post("/login", data={"username": user, "password": DEMO_PASSWORD, "csrf_token": client.token})
    client.token = token_of(client, page)
    if locale:
        client.post("/language", data={"locale": locale, "csrf_token": client.token})
    return client


def token_of(client, path: str) -> str:
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(2)


if __name__ == "__main__":
    main()
