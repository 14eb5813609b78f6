"""Task completions per second through the web app under gunicorn, against the bare engine on the same cores.

Run (PostgreSQL, an empty database the bench may fill; loopback only):
`.venv/bin/python bench/throughput.py --database postgresql://postgres@127.0.0.1:5432/bench [--clients 1,2,4,8]
 [--modes post,api,browser] [--rounds 3] [--seconds 4] [--workers 4] [--threads 1]`

The bare engine and the app take turns in short rounds, so that both see the same load from whatever
else runs on the machine: for each client count, `--rounds` times, first the bare engine (one process
per core, each looping SpiffWorkflow 3.2 through the same two tasks the clients complete: deserialize,
run the task, engine steps, serialize), then the app in each mode, `--seconds` each. The app is
gunicorn (`--workers` sync workers) on 127.0.0.1, and that many client processes each complete tasks
on their own incidents, looping first line resolves → the requester rejects, so nothing conflicts; each
incident for 10 completions, then a fresh one (made between rounds), as the bare engine does. Modes:
- `post`: the form POST alone (the client reads the next task's id from the database);
- `api`: `POST /api/v1/tasks/{incident}/{task}/complete` with a bearer token, the next task's id taken from
  its answer (the incident's open tasks; read from the database for a fresh incident);
- `browser`: as a browser does — open the incident, open the task, post the form.
Prints every round (with the 1-minute load average when it began) and, per mode and client count, the
median completions/s, the ratio of the app's median to the bare engine's (target ≥ 0.5), and the
spread: the lowest and highest ratio of a round to the bare round of its own turn. Then where the CPU of
a completion went (medians of the rounds, from /proc): the gunicorn workers, the database's PostgreSQL
processes and the clients, against the bare engine's CPU per action. Their quotient is the ratio the app
would reach with every core busy and the machine to itself; it moves much less with the neighbours' load
than the rates do (docs/bench.md).
The server's log (a JSON line per request) goes to a file, named at the start.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app runs from the checkout

from app import forms  # noqa: E402
from app.api import tokens  # noqa: E402
from app.db import Database  # noqa: E402
from app.forms import read_form_files  # noqa: E402
from app.incidents.service import IncidentService  # noqa: E402
from app.models import User  # noqa: E402
from app.process import validation, versions  # noqa: E402
from app.users import actor_of  # noqa: E402
from bench.action_cost import (  # noqa: E402
    AUDIT_KEY,  # noqa: E402
    PATH,
    REGISTRATION,
    REJECTED,
    RESOLVED,
    Bare,
)
from bench.http_load import (  # noqa: E402
    NEXT,
    ApiClient,
    Client,
    NextTasks,
    backend_pids,
    cpu_seconds,
    free_port,
    new_incident,
    prepare,
    serve,
    stop,
    worker_pids,
)

ANSWERS = {"first_line_handling": RESOLVED, "confirm_resolution": REJECTED}  # the bare engine's and the API's
MODES = ("post", "api", "browser")
BARE_ROUND = 10  # completions on one bare instance before a fresh one: unpruned, its tree only grows
LIFE = BARE_ROUND  # completions on one incident before a fresh one (Worked)


class Team:
    """Processes that live through the whole run and each do a timed round when told (so that a client
    signs in and the bare engine parses its model once, not every round)."""

    def __init__(self, size: int, work: Callable[..., None], *setup: object):
        context = multiprocessing.get_context("fork")
        self.pipes: list[Connection] = []
        self.processes = []
        for index in range(size):
            ours, theirs = context.Pipe()
            process = context.Process(target=work, args=(theirs, index, *setup), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
            ours.recv()  # ready: one after the other (sign-ins at the same instant from one address are throttled)

    def round(self, size: int, *order: object) -> list[float]:
        for pipe in self.pipes[:size]:
            pipe.send(order)
        return [pipe.recv() for pipe in self.pipes[:size]]

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for process in self.processes:
            process.join(timeout=30)


def bare_process(pipe: Connection, _index: int) -> None:
    """Answers each order (seconds) with its completions per second over that much of its own time, and
    the CPU milliseconds of one (less than its time when the machine is shared)."""
    model = validation.load(versions.BUNDLED_DIAGRAM.read_text(encoding="utf-8"), read_form_files())
    data = {spec: forms.validate(model.form(spec)[0], value) for spec, value in ANSWERS.items()}
    registration = forms.validate(model.form("register_incident")[0], REGISTRATION)
    pass_on = forms.validate(model.form("initial_support")[0], PATH[0][2])
    pipe.send("ready")
    while (order := pipe.recv()) is not None:
        (seconds,) = order
        spent, cpu, done = 0.0, 0.0, 0
        while spent < seconds:
            bare, spec = Bare(model, stock=False), "first_line_handling"
            bare.start(registration)  # not timed: the clients work on incidents made beforehand too
            bare.act("initial_support", pass_on)
            for _ in range(BARE_ROUND):
                start, start_cpu = time.perf_counter(), time.process_time()
                bare.act(spec, data[spec])
                spent, cpu = spent + time.perf_counter() - start, cpu + time.process_time() - start_cpu
                spec, done = NEXT[spec], done + 1
        pipe.send((done / spent, 1000 * cpu / done))


class Worked:
    """A client's incidents: each worked for `LIFE` completions, then left for a fresh one, as the bare
    engine takes a fresh instance (an incident's pages show its whole history: worked on for ever, its
    pages would grow with the length of the run)."""

    def __init__(self, db: Database, username: str, incidents: list[int]):
        self.service = IncidentService(db)
        with db.read() as session:
            self.desk = actor_of(session.query(User).filter_by(username="bench_desk").one())
            self.requester_id = session.query(User).filter_by(username=username).one().id
        self.waiting = list(incidents)  # at first-line handling, never worked
        self.current, self.spec, self.done = self.waiting.pop(0), "first_line_handling", 0
        self.following: str | None = None  # the next task's id, when an API answer gave it
        self.most: dict[str, int] = {}  # completions of a round, the most so far, by mode

    def top_up(self, mode: str, default: int) -> None:
        """Enough fresh incidents made (not timed) for twice the most this client did in a round of `mode`."""
        need = math.ceil(2 * self.most.get(mode, default) / LIFE) + 1
        while len(self.waiting) < need:
            self.waiting.append(new_incident(self.service, self.desk, self.requester_id))

    def next(self) -> tuple[int, str]:
        """The incident to complete a task of, and that task's kind."""
        if self.done == LIFE:
            self.done, self.spec, self.following = 0, "first_line_handling", None
            waiting = self.waiting.pop(0) if self.waiting else None  # none left: made in the round, rarely
            self.current = waiting or new_incident(self.service, self.desk, self.requester_id)
        return self.current, self.spec

    def completed(self, following: str | None = None) -> None:
        self.spec, self.done, self.following = NEXT[self.spec], self.done + 1, following


def client_process(
    pipe: Connection, index: int, port: int, owned: list[list[int]], url: str, secrets: list[str]
) -> None:
    """Client `index`, signed in once (browser and API). Orders: (mode, seconds), answered once its
    incidents are topped up; then (start_at, at_least), answered with its completions from `start_at`
    for `seconds` (and on to `at_least`)."""
    browser, api, next_task = Client(port, f"bench{index}"), ApiClient(port, secrets[index]), NextTasks(url)
    worked = Worked(Database(url, audit_key=AUDIT_KEY), f"bench{index}", owned[index])
    pipe.send("ready")
    while (order := pipe.recv()) is not None:
        mode, seconds = order
        worked.top_up(mode, default=int(20 * seconds))
        pipe.send("ready")
        start_at, at_least = pipe.recv()
        while time.time() < start_at:  # every client starts together
            time.sleep(0.01)
        done, deadline = 0, start_at + seconds
        while time.time() < deadline or done < at_least:
            incident_id, spec = worked.next()
            task_id = "" if mode == "browser" else worked.following or next_task(incident_id)
            if mode == "api":
                worked.completed(api.complete(incident_id, task_id, ANSWERS[spec]))
            else:
                browser.complete(incident_id, task_id, spec, browse=mode == "browser")
                worked.completed()
            done += 1
        worked.most[mode] = max(worked.most.get(mode, 0), done)
        pipe.send(done)


def api_tokens(db: Database, count: int) -> list[str]:
    """An API token (read, complete tasks) for each bench account."""
    with db.transaction() as session:
        users = [session.query(User).filter_by(username=f"bench{n}").one() for n in range(count)]
        now = datetime.now(UTC)
        scopes = [tokens.READ, tokens.COMPLETE_TASKS]
        return [tokens.create(session, actor_of(user), user, "bench", scopes, now).secret for user in users]


class Machine:
    """CPU seconds used so far by the gunicorn workers, the database's PostgreSQL processes and the clients."""

    PARTS = ("workers", "postgres", "clients")

    def __init__(self, server: subprocess.Popen, db: Database, clients: Team):
        self.server, self.db, self.clients = server, db, [process.pid for process in clients.processes]

    def used(self) -> dict[str, dict[int, float]]:
        pids = {"workers": worker_pids(self.server), "postgres": backend_pids(self.db), "clients": self.clients}
        return {part: {pid: cpu_seconds([pid]) for pid in pids[part]} for part in self.PARTS}

    @staticmethod
    def per_completion(before: dict, after: dict, completions: float) -> dict[str, float]:
        """ms of CPU per completion by part (a process that began in between counts from nothing)."""
        spent = {part: sum(used - before[part].get(pid, 0.0) for pid, used in after[part].items()) for part in after}
        return {part: 1000 * seconds / max(completions, 1) for part, seconds in spent.items()}


def timed(clients: Team, size: int, mode: str, seconds: float, at_least: int = 0, machine: Machine | None = None):
    """Completions per second of the first `size` clients in `mode` over `seconds`, and with a `machine`,
    the CPU of a completion by part."""
    clients.round(size, mode, seconds)  # incidents topped up
    before = machine.used() if machine else {}
    completions = sum(clients.round(size, time.time() + 0.2, at_least))
    return completions / seconds, machine.per_completion(before, machine.used(), completions) if machine else {}


def summary(rounds: list[dict], modes: list[str]) -> None:
    print(f"\n{'mode':>8}{'clients':>8}{'median/s':>10}{'bare/s':>8}{'÷ bare':>8}{'spread':>13}{'load':>11}")
    counts = sorted({row["clients"] for row in rounds})
    for mode in modes:
        for count in counts:
            rows = [row for row in rounds if row["clients"] == count]
            rate, bare = statistics.median(row[mode] for row in rows), statistics.median(row["bare"] for row in rows)
            ratios = [row[mode] / row["bare"] for row in rows]
            loads = [row["load"] for row in rows]
            print(f"{mode:>8}{count:>8}{rate:>10.1f}{bare:>8.0f}{rate / bare:>8.2f}"
                  f"{min(ratios):>7.2f}–{max(ratios):.2f}{min(loads):>6.1f}–{max(loads):.1f}")  # fmt: skip
    print(f"\nCPU ms per completion{'':>6}" + "".join(f"{part:>10}" for part in Machine.PARTS)
          + f"{'total':>8}{'bare':>7}{'bare ÷ total':>14}")  # fmt: skip
    for mode in modes:
        for count in counts:
            rows = [row for row in rounds if row["clients"] == count]
            parts = [statistics.median(row["cpu"][mode][part] for row in rows) for part in Machine.PARTS]
            bare = statistics.median(row["bare_cpu"] for row in rows)
            print(f"{mode:>8}{count:>4} clients{'':>6}" + "".join(f"{ms:>10.1f}" for ms in parts)
                  + f"{sum(parts):>8.1f}{bare:>7.1f}{bare / sum(parts):>14.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL of an empty database the bench may fill")
    parser.add_argument("--clients", default="1,2,4,8")
    parser.add_argument("--modes", default=",".join(MODES), help="of post, api, browser")
    parser.add_argument("--rounds", type=int, default=3, help="turns of bare engine and app per client count")
    parser.add_argument("--seconds", type=float, default=4, help="length of each round")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread when > 1)")
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    modes = [mode for mode in args.modes.split(",") if mode]
    if not set(modes) <= set(MODES):
        parser.error(f"--modes: of {', '.join(MODES)}")

    db, owned = prepare(args.database, max(counts), per_client=4)
    IncidentService(db)  # the schema and data are ready before gunicorn imports the app
    secrets = api_tokens(db, max(counts))
    db.dispose()
    cores = os.cpu_count() or 1
    bare = Team(cores, bare_process)
    port = free_port()
    log = tempfile.NamedTemporaryFile("w", prefix="throughput-", suffix=".log", delete=False)  # noqa: SIM115
    print(f"server log: {log.name}")
    # the API's per-token limit would stop the clients: counted all the same, far above what they reach
    server = serve(args.database, port, args.workers, args.threads, log, API_RATE_LIMIT="1000000 per minute")
    rounds = []
    try:
        clients = Team(max(counts), client_process, port, owned, args.database, secrets)
        machine = Machine(server, db, clients)
        print(f"{cores} cores; gunicorn {args.workers} workers × {args.threads} threads; {args.seconds:g} s rounds; "
              f"completions/s (bare engine: {cores} processes restoring around the parsed spec)")  # fmt: skip
        # warm-up: every worker parses the model and compiles the templates before anything is timed (a
        # worker's first incident page takes seconds on a loaded machine: a number of completions, not a time)
        for mode in modes:
            timed(clients, min(args.workers, max(counts)), mode, 1, at_least=4)
        print(f"{'clients':>8}{'round':>6}{'load':>6}{'bare':>7}" + "".join(f"{mode:>9}" for mode in modes))
        for count in counts:
            for turn in range(args.rounds):
                row = {"clients": count, "load": os.getloadavg()[0], "cpu": {}}
                rates, cpu = zip(*bare.round(cores, args.seconds), strict=True)
                row["bare"], row["bare_cpu"] = sum(rates), statistics.mean(cpu)
                for mode in modes:
                    row[mode], row["cpu"][mode] = timed(clients, count, mode, args.seconds, machine=machine)
                rounds.append(row)
                print(f"{count:>8}{turn + 1:>6}{row['load']:>6.1f}{row['bare']:>7.0f}"
                      + "".join(f"{row[mode]:>9.1f}" for mode in modes), flush=True)  # fmt: skip
        clients.close()
    finally:
        stop(server)
        bare.close()
        db.dispose()
        log.close()
    summary(rounds, modes)


if __name__ == "__main__":
    main()
