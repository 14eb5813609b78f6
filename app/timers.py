"""The timer sweeper: as a worker process (`flask --app wsgi timers run`) or inside the dev server."""

from __future__ import annotations

import logging
import threading

from app.incidents.service import IncidentService

log = logging.getLogger(__name__)


def sweep_forever(service: IncidentService, interval: float, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            fired = service.fire_due_timers()
            if fired:
                log.info("fired timers of %d incident(s)", fired)
        except Exception:  # a worker must outlive a broken database connection
            log.exception("timer sweep failed")
        stop.wait(interval)


def start_in_process(service: IncidentService, interval: float) -> threading.Thread:
    thread = threading.Thread(target=sweep_forever, args=(service, interval), name="timer-sweeper", daemon=True)
    thread.start()
    return thread
