"""What each request of a task completion costs a worker: CPU and SQL statements, per request type.

Run (PostgreSQL, an empty database the bench may fill):
`.venv/bin/python bench/request_cost.py --database postgresql://postgres@127.0.0.1:5432/bench [--completions 60]
 [--profile DIR]`

The WSGI app a gunicorn worker runs, in this process (Flask's test client, no server), completes tasks
the ways bench/throughput.py's clients do, on fresh incidents (10 completions each): the incident page
GET, the task page GET and the form POST, then a completion through the API. Prints, per request type,
the median CPU time of this process (`time.process_time`: the worker's own, not PostgreSQL's) and the
median number of SQL statements. With `--profile`, a cProfile of each type (CPU clock) is written to DIR.
"""

from __future__ import annotations

import argparse
import cProfile
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app runs from the checkout

from sqlalchemy import event  # noqa: E402
from werkzeug.test import TestResponse  # noqa: E402

from app import create_app  # noqa: E402
from bench.action_cost import AUDIT_KEY  # noqa: E402
from bench.http_load import CSRF, FAST_HASH, FORMS, NEXT, PASSWORD, next_task, prepare  # noqa: E402
from bench.throughput import ANSWERS, LIFE, api_tokens  # noqa: E402

KINDS = ("incident page", "task page", "form POST", "API completion")
WARM_UP = 5  # completions before anything is counted: the model parsed, the templates compiled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL of an empty database the bench may fill")
    parser.add_argument("--completions", type=int, default=60, help="of each kind (form and API)")
    parser.add_argument("--profile", type=Path, help="a folder for one cProfile file per request type")
    args = parser.parse_args()

    rounds = WARM_UP + args.completions
    db, owned = prepare(args.database, 1, per_client=rounds * 2 // LIFE + 1)
    secret = api_tokens(db, 1)[0]
    app = create_app({"DATABASE_URL": args.database, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": FAST_HASH,
                      "AUDIT_HMAC_KEY": AUDIT_KEY.decode(), "AUDIT_CHECKPOINT_DIR": tempfile.mkdtemp(),
                      "API_RATE_LIMIT": "1000000 per minute"})  # fmt: skip
    sent: list[str] = []
    event.listen(app.extensions["db"].engine, "before_cursor_execute", lambda *_args: sent.append(""))
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "bench0", "password": PASSWORD, "csrf_token": token})
    api = {"Authorization": f"Bearer {secret}"}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    sql: dict[str, list[int]] = {kind: [] for kind in KINDS}
    profiles = {kind: cProfile.Profile(time.process_time) for kind in KINDS}

    def timed(kind: str, counted: bool, method: str, path: str, **sending: object) -> TestResponse:
        sent.clear()
        profile = profiles[kind] if args.profile and counted else None
        began = time.process_time()
        if profile:
            profile.enable()
        response = client.open(path, method=method, **sending)
        if profile:
            profile.disable()
        if counted:
            cpu[kind].append(time.process_time() - began)
            sql[kind].append(len(sent))
        return response

    spec = "first_line_handling"
    for turn in range(rounds):
        incident_id, counted = owned[0][turn * 2 // LIFE], turn >= WARM_UP
        page = timed("incident page", counted, "GET", f"/incidents/{incident_id}")
        task_id = re.search(rf"/tasks/{incident_id}/([0-9a-f-]{{36}})", page.get_data(as_text=True)).group(1)
        page = timed("task page", counted, "GET", f"/tasks/{incident_id}/{task_id}")
        form = {**FORMS[spec], "spec_id": spec, "csrf_token": CSRF.search(page.get_data(as_text=True)).group(1)}
        done = timed("form POST", counted, "POST", f"/tasks/{incident_id}/{task_id}", data=form)
        spec, task_id = NEXT[spec], next_task(db, incident_id)[0]
        path = f"/api/v1/tasks/{incident_id}/{task_id}/complete"
        answered = timed("API completion", counted, "POST", path, json=ANSWERS[spec], headers=api)
        if (done.status_code, answered.status_code) != (302, 200):
            raise RuntimeError(f"POST answered {done.status_code}, the API {answered.status_code}")
        spec = NEXT[spec]
    print(f"{args.completions} of each, fresh incidents every {LIFE} completions; median CPU of this process")
    print(f"{'request':>16}{'CPU ms':>8}{'SQL':>5}")
    for kind in KINDS:
        print(f"{kind:>16}{statistics.median(cpu[kind]) * 1000:>8.1f}{statistics.median(sql[kind]):>5.0f}")
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            profiles[kind].dump_stats(args.profile / f"{kind.replace(' ', '_')}.prof")


if __name__ == "__main__":
    main()
