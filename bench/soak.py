"""Memory of gunicorn workers under mixed load, over time: does a worker grow?

Run (PostgreSQL, a database the bench may fill; loopback only):
`.venv/bin/python bench/soak.py --database postgresql://postgres@127.0.0.1:5432/bench [--minutes 2]
 [--clients 4] [--workers 2] [--interval 10]`
`--minutes 30` is the full soak of docs/bench.md. Clients complete tasks as a browser does (incident
page, task page, form POST) and read the inbox and the incident list between completions. Every
`--interval` seconds the resident memory (RSS) of each worker is read from /proc. Prints the samples,
each worker's first, last and largest RSS, and the trend of the workers' mean RSS over the second
half of the run (MB per 10 minutes; target: under 250 MB, no growth trend).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app runs from the checkout

from app.db import Database  # noqa: E402
from bench.action_cost import AUDIT_KEY  # noqa: E402
from bench.http_load import NEXT, Client, free_port, next_task, prepare, rss_mb, serve, stop, worker_pids  # noqa: E402


def client_worker(args: tuple) -> int:
    port, username, incidents, url, deadline = args
    client = Client(port, username)
    db = Database(url, audit_key=AUDIT_KEY)
    specs = {incident_id: next_task(db, incident_id)[1] for incident_id in incidents}
    db.dispose()
    done = 0
    while time.time() < deadline:
        incident_id = incidents[done % len(incidents)]
        client.complete(incident_id, "", specs[incident_id], browse=True)
        specs[incident_id] = NEXT[specs[incident_id]]
        for page in ("/inbox", "/incidents/"):
            status, _ = client.get(page)
            if status != 200:
                raise RuntimeError(f"{page} answered {status}")
        done += 1
    return done


def slope_per_10_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per 10 minutes."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mean_x, mean_y = statistics.mean(xs), statistics.mean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return 600 * sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL of a database the bench may fill")
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    args = parser.parse_args()

    db, owned = prepare(args.database, args.clients, per_client=4)
    db.dispose()
    port = free_port()
    server = serve(args.database, port, args.workers, 1)
    samples: list[tuple[float, list[float]]] = []
    try:
        pids = worker_pids(server)
        began = time.time()
        deadline = began + args.minutes * 60
        jobs = [(port, f"bench{n}", owned[n], args.database, deadline) for n in range(args.clients)]
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            running = pool.map_async(client_worker, jobs)
            while not running.ready():
                samples.append((time.time() - began, [rss_mb(pid) for pid in pids]))
                running.wait(args.interval)
            done = sum(running.get())
        samples.append((time.time() - began, [rss_mb(pid) for pid in pids]))
        if sorted(worker_pids(server)) != sorted(pids):
            print("a worker was replaced during the run (crashed or timed out)")
    finally:
        stop(server)

    rate = done / (args.minutes * 60)
    print(f"{args.minutes:g} min, {args.clients} clients, {args.workers} workers: {done} completions ({rate:.1f}/s), "
          "each with an incident page, a task page, the inbox and the list")  # fmt: skip
    print(f"{'s':>6}  " + "  ".join(f"worker {n} MB" for n in range(len(pids))))
    for at, values in samples:
        print(f"{at:>6.0f}  " + "  ".join(f"{value:>11.1f}" for value in values))
    for n in range(len(pids)):
        column = [values[n] for _, values in samples]
        print(f"worker {n}: first {column[0]:.1f} MB, last {column[-1]:.1f} MB, largest {max(column):.1f} MB")
    second_half = [(at, statistics.mean(values)) for at, values in samples if at >= samples[-1][0] / 2]
    print(f"trend of the mean over the second half: {slope_per_10_min(second_half):+.2f} MB per 10 minutes")


if __name__ == "__main__":
    main()
