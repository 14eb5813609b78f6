"""The timer sweeper: as a worker process (`flask --app wsgi timers run`) or inside the dev server.

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


def sweep_forever(
    service: IncidentService,
    interval: float,
    stop: threading.Event | None = None,
    jobs: Sequence[Job] = (),
) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        token = audit.request_id.set(f"timer-{uuid.uuid4().hex[:24]}")  # on this sweep's audit rows and log lines
        try:
            fired = service.fire_due_timers()
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
        stop.wait(interval)


def start_in_process(service: IncidentService, interval: float, jobs: Sequence[Job] = ()) -> threading.Thread:
    thread = threading.Thread(
        target=sweep_forever, args=(service, interval), kwargs={"jobs": jobs}, name="timer-sweeper", daemon=True
    )
    thread.start()
    return thread
