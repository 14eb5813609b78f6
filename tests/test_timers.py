"""The timer worker (app/timers.py): a full sweep is followed at once by the next, so a backlog of due
timers drains without waiting for the interval; an idle worker waits."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from app.incidents.projection import ACTIVE_STATUSES
from app.models import Incident
from app.timers import sweep_forever
from tests.driver import registration


def due(db, now) -> int:
    with db.read() as session:
        query = (
            select(func.count())
            .select_from(Incident)
            .where(Incident.next_timer_due < now, Incident.status.in_(ACTIVE_STATUSES))
        )
        return session.scalar(query)


def test_a_backlog_drains_in_batches_without_waiting_for_the_interval(desk, service, db, clock):
    for _ in range(5):
        desk.register(registration("request"))  # 24 h deadline
    clock.tick(timedelta(hours=25))  # all five warnings and breaches are due
    now = service.clock()
    assert due(db, now) == 5
    stop = threading.Event()
    worker = threading.Thread(target=sweep_forever, args=(service, 3600), kwargs={"stop": stop, "batch": 2})
    worker.start()
    try:
        for _ in range(300):  # up to 15 s
            if not due(db, now):
                break
            time.sleep(0.05)
        assert due(db, now) == 0  # three sweeps (2 + 2 + 1) within one interval of an hour
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()  # the last sweep was not full: the worker waited, and stopped
    with db.read() as session:
        breached = session.scalar(select(func.count()).select_from(Incident).where(Incident.breached.is_(True)))
    assert breached == 5
