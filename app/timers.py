"""The timer sweeper: as a worker process (`flask --app wsgi timers run`) or inside the dev server.

A sweep fires the due timers of at most `BATCH` incidents (one transaction each); when it fires that
many, more may be due, so the next sweep starts at once: a backlog of due timers drains as fast as
the workers can fire them, and only an idle worker waits for the interval.

After each good sweep it runs the periodic jobs it was given: the heartbeat (app/observability) and the
audit log's whole check (app/audit/jobs.py)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence

from app import audit
from app.incidents.service import IncidentService

log = logging.getLogger(__name__)
Job = Callable[[], object]

BATCH = 100


def sweep_forever(
    service: IncidentService,
    interval: float,
    stop: threading.Event | None = None,
    jobs: Sequence[Job] = (),
    batch: int = BATCH,
) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        fired = 0
        token = audit.request_id.set(f"timer-{uuid.uuid4().hex[:24]}")  # on this sweep's audit rows and log lines
        try:
            fired = service.fire_due_timers(limit=batch)
            if fired:
                log.info("fired timers of %d incident(s)", fired)
        except Exception:  # a worker must outlive a broken database connection
            log.exception("timer sweep failed")
        else:  # the heartbeat and the audit check: only after a good sweep
            for job in jobs:
                try:
                    job()
                except Exception:
                    log.exception("periodic job %r failed", job)
        finally:
            audit.request_id.reset(token)
        if fired < batch:
            stop.wait(interval)


def start_in_process(service: IncidentService, interval: float, jobs: Sequence[Job] = ()) -> threading.Thread:
    thread = threading.Thread(
        target=sweep_forever, args=(service, interval), kwargs={"jobs": jobs}, name="timer-sweeper", daemon=True
    )
    thread.start()
    return thread
