"""Task completions per second through the web app under gunicorn, against the bare engine on the same cores.

Run (PostgreSQL, a database the bench may fill; loopback only):
`.venv/bin/python bench/throughput.py --database postgresql://postgres@127.0.0.1:5432/bench [--clients 1,2,4,8]
 [--seconds 10] [--workers 4] [--threads 1] [--post-only]`

1. The bare engine: one process per core, each looping SpiffWorkflow 3.2 through the same two tasks
   the clients complete (deserialize, run the task, engine steps, serialize), for `--seconds`.
2. The app: gunicorn (`--workers` sync workers by default) on 127.0.0.1; for each client count,
   that many client processes complete tasks for `--seconds` the way a browser does — open the
   incident, open the task, post the form (or, with `--post-only`, the form POST alone; the client
   then reads the next task's id from the database). Each client works its own incidents, looping
   first line resolves → the requester rejects, so nothing conflicts and nothing runs out.
Prints completions/s for each client count and its ratio to the bare engine (target ≥ 0.5).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app runs from the checkout

from app import forms  # noqa: E402
from app.db import Database  # noqa: E402
from app.forms import read_form_files  # noqa: E402
from app.incidents.service import IncidentService  # noqa: E402
from app.process import validation, versions  # noqa: E402
from bench.action_cost import (  # noqa: E402
    AUDIT_KEY,  # noqa: E402
    PATH,
    REGISTRATION,
    REJECTED,
    RESOLVED,
    Bare,
)
from bench.http_load import NEXT, Client, free_port, next_task, prepare, serve, stop  # noqa: E402

BARE_DATA = {"first_line_handling": RESOLVED, "confirm_resolution": REJECTED}


BARE_ROUND = 10  # completions on one bare instance before a fresh one: unpruned, its tree only grows


def bare_worker(args: tuple[bool, float]) -> float:
    """Completions per second of one process of bare engine, over `seconds` of its own time."""
    stock, seconds = args
    model = validation.load(versions.BUNDLED_DIAGRAM.read_text(encoding="utf-8"), read_form_files())
    data = {spec: forms.validate(model.form(spec)[0], value) for spec, value in BARE_DATA.items()}
    registration = forms.validate(model.form("register_incident")[0], REGISTRATION)
    pass_on = forms.validate(model.form("initial_support")[0], PATH[0][2])
    spent, done = 0.0, 0
    while spent < seconds:
        bare, spec = Bare(model, stock=stock), "first_line_handling"
        bare.start(registration)  # not timed: the clients work on incidents made beforehand too
        bare.act("initial_support", pass_on)
        for _ in range(BARE_ROUND):
            start = time.perf_counter()
            bare.act(spec, data[spec])
            spent += time.perf_counter() - start
            spec, done = NEXT[spec], done + 1
    return done / spent


def bare_rate(stock: bool, seconds: float) -> float:
    cores = os.cpu_count() or 1
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        return sum(pool.map(bare_worker, [(stock, seconds)] * cores))


def client_worker(args: tuple) -> int:
    port, username, incidents, url, post_only, start_at, seconds, at_least = args
    client = Client(port, username)
    db = Database(url, audit_key=AUDIT_KEY)
    spec = {incident_id: next_task(db, incident_id)[1] for incident_id in incidents}  # where earlier runs left them
    while time.time() < start_at:  # every client starts together, signed in already
        time.sleep(0.01)
    done, turn = 0, 0
    deadline = start_at + seconds
    while time.time() < deadline or done < at_least:
        incident_id = incidents[turn % len(incidents)]
        task_id = next_task(db, incident_id)[0] if post_only else ""
        client.complete(incident_id, task_id, spec[incident_id], browse=not post_only)
        spec[incident_id] = NEXT[spec[incident_id]]
        done, turn = done + 1, turn + 1
    return done


def http_rate(
    port: int, owned: list[list[int]], clients: int, url: str, post_only: bool, seconds: float, at_least: int = 0
) -> float:
    """Completions per second of `clients` clients over `seconds` (each goes on to `at_least` completions)."""
    start_at = time.time() + 3
    jobs = [(port, f"bench{n}", owned[n], url, post_only, start_at, seconds, at_least) for n in range(clients)]
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        done = pool.map(client_worker, jobs)
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL of a database the bench may fill")
    parser.add_argument("--clients", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread when > 1)")
    parser.add_argument("--post-only", action="store_true", help="time the form POST alone")
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]

    db, owned = prepare(args.database, max(counts), per_client=4)
    IncidentService(db)  # the schema and data are ready before gunicorn imports the app
    db.dispose()
    bare = {stock: bare_rate(stock, args.seconds) for stock in (False, True)}
    port = free_port()
    server = serve(args.database, port, args.workers, args.threads)
    try:
        # warm-up: every worker parses the model and compiles the templates before anything is timed (a
        # worker's first incident page takes seconds on a loaded machine: a number of completions, not a time)
        http_rate(port, owned, min(args.workers, max(counts)), args.database, args.post_only, 2, at_least=4)
        rates = {clients: http_rate(port, owned, clients, args.database, args.post_only, args.seconds)
                 for clients in counts}  # fmt: skip
    finally:
        stop(server)
    cores = os.cpu_count()
    mode = "form POST alone" if args.post_only else "incident page + task page + form POST"
    print(f"{cores} cores; gunicorn {args.workers} workers × {args.threads} threads; {mode}; {args.seconds:g} s each")
    print(f"bare engine, {cores} processes: {bare[False]:.0f}/s restoring around the parsed spec, "
          f"{bare[True]:.0f}/s with the stock serializer")  # fmt: skip
    print(f"{'clients':>8}{'completions/s':>15}{'÷ bare':>9}{'÷ bare stock':>14}")
    for clients, rate in rates.items():
        print(f"{clients:>8}{rate:>15.1f}{rate / bare[False]:>9.2f}{rate / bare[True]:>14.2f}")


if __name__ == "__main__":
    main()
