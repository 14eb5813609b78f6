"""Prometheus metrics (the official `prometheus-client`), served at /metrics.

Counted in each process: requests by endpoint, method and status with their latency (an action is a
POST: its latency is the POST endpoint's), audit rows by kind once committed (what was done), errors.
Read from the database at each scrape, so every app process tells the same: the timer backlog and
lag, the last whole check of the audit log and its age, the workers' heartbeats.

Under gunicorn with several worker processes set `PROMETHEUS_MULTIPROC_DIR` to an empty folder (see
docs/deployment.md): each process then writes its counters there and /metrics adds them up.
"""

from __future__ import annotations

import os
from datetime import datetime

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.audit.verification import last_stored
from app.db import Database
from app.models import Incident, utcnow
from app.notifications.centre import outbox_state
from app.observability.heartbeats import last_beats

CONTENT_TYPE = CONTENT_TYPE_LATEST
REQUESTS = Counter("incident_http_requests", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "incident_http_request_seconds", "Time to answer a request", ["endpoint", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
ERRORS = Counter("incident_errors", "Requests answered 5xx, and failed worker sweeps or jobs", ["where"])
ACTIONS = Counter("incident_actions", "Audited actions committed, by audit event kind", ["kind"])


def init(app: Flask) -> None:
    if not getattr(init, "listening", False):  # once per process: the listener is on every Session
        event.listen(Session, "after_commit", _count_actions)
        init.listening = True


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint, method, str(status)).inc()
    LATENCY.labels(endpoint, method).observe(seconds)
    if status >= 500:
        ERRORS.labels("request").inc()


def _count_actions(session: Session) -> None:
    for kind in session.info.pop("audited_kinds", ()):
        ACTIONS.labels(kind).inc()


def render(db: Database, heartbeat_kinds: tuple[str, ...]) -> bytes:
    """The exposition text: this process's (or, in multiprocess mode, every process's) counters, then the
    figures read from the database now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(db, heartbeat_kinds))
    return generate_latest(counted) + generate_latest(database)


class DatabaseCollector:
    """Gauges read at scrape time with a few indexed queries (never a walk of the audit log)."""

    def __init__(self, db: Database, heartbeat_kinds: tuple[str, ...]):
        self.db, self.kinds = db, heartbeat_kinds

    def collect(self):
        now = utcnow()
        with self.db.read() as session:
            due = select(func.count(), func.min(Incident.next_timer_due)).where(Incident.next_timer_due <= now)
            backlog, oldest = session.execute(due).one()
            check = last_stored(session)
            beats = last_beats(session)
            outbox = outbox_state(session, now)
        yield _gauge("incident_timer_backlog", "Incidents whose next timer is due now", backlog)
        yield _gauge("incident_timer_lag_seconds", "How long the oldest due timer has waited", _age(now, oldest))
        status = -1 if check is None else int(check.ok)
        yield _gauge("incident_audit_verification_ok", "Last whole audit check: 1 intact, 0 broken, -1 none", status)
        yield _gauge("incident_audit_verification_age_seconds", "Seconds since the last whole audit check ended",
                     _age(now, check.finished_at if check else None, missing=float("inf")))  # fmt: skip
        problems, rows = (check.problem_count, check.rows) if check else (0, 0)
        yield _gauge("incident_audit_problems", "Problems the last whole audit check found", problems)
        yield _gauge("incident_audit_rows_checked", "Audit rows the last whole check read", rows)
        yield from _outbox(outbox)
        heartbeat = GaugeMetricFamily("incident_worker_heartbeat_age_seconds",
                                      "Seconds since a worker of this kind last reported", labels=["kind"])  # fmt: skip
        for kind in sorted(set(self.kinds) | set(beats)):
            heartbeat.add_metric([kind], _age(now, beats.get(kind), missing=float("inf")))
        yield heartbeat


def _outbox(state: tuple[dict[str, int], float]):
    """The notification outbox (docs/notifications.md): what waits, what failed, how long the oldest waits."""
    counts, oldest = state
    rows = GaugeMetricFamily("incident_notifications", "Notifications to deliver or failed, by state", labels=["state"])
    for status, count in sorted(counts.items()):
        rows.add_metric([status], count)
    yield rows
    yield _gauge("incident_notification_lag_seconds", "How long the oldest due notification has waited", oldest)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(now: datetime, moment: datetime | None, missing: float = 0.0) -> float:
    if moment is None:
        return missing
    return max((now - moment).total_seconds(), 0.0)
