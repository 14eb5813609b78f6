"""What /metrics tells: requests and their latency, actions by kind, the timer backlog and lag, the
last whole audit check and the workers' heartbeats (read from the database by every app process)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from app.audit.jobs import check_and_seal
from app.observability.heartbeats import Heartbeat
from tests.driver import registration


def scrape(app) -> dict[str, float]:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def value(metrics: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{key}="{label}"' for key, label in labels.items()]
    for key, number in metrics.items():
        found = re.fullmatch(r"([^{]+)(?:\{(.*)\})?", key)
        if found.group(1) == name and all(item in (found.group(2) or "").split(",") for item in wanted):
            return number
    return 0.0


def test_requests_are_counted_and_timed_by_endpoint(app):
    before = scrape(app)
    client = app.test_client()
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/page")
    after = scrape(app)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("incident_http_requests_total", endpoint="health.healthz", method="GET", status="200") == 3
    assert grew("incident_http_request_seconds_count", endpoint="health.healthz", method="GET") == 3
    assert value(after, "incident_http_requests_total", endpoint="unmatched", status="404") >= 1


def test_actions_are_counted_by_kind_once_committed(app, desk):
    before = scrape(app)
    desk.register(registration(complaints=20))
    after = scrape(app)
    for kind in ("started", "task_completed", "classified", "dispatched"):
        grown = value(after, "incident_actions_total", kind=kind) - value(before, "incident_actions_total", kind=kind)
        assert grown >= 1, kind


def test_timer_backlog_and_lag_come_from_the_database(app, desk, clock):
    desk.register(registration(complaints=120))  # orange: a fault notification owed within 30 min
    metrics = scrape(app)
    assert metrics["incident_timer_backlog"] == 0 and metrics["incident_timer_lag_seconds"] == 0
    clock.tick(timedelta(hours=1))  # no worker fired anything
    metrics = scrape(app)
    assert metrics["incident_timer_backlog"] == 1 and metrics["incident_timer_lag_seconds"] >= 30 * 60 - 1
    assert metrics['incident_worker_heartbeat_age_seconds{kind="timer"}'] == float("inf")


def test_audit_verification_status_and_age(app, desk, clock):
    desk.register(registration(complaints=20))
    assert scrape(app)["incident_audit_verification_ok"] == -1  # never checked
    with app.app_context():
        check_and_seal(app.extensions["db"], Path(app.config["AUDIT_CHECKPOINT_DIR"]))
    Heartbeat(app.extensions["db"], "timer")()
    clock.tick(timedelta(seconds=90))
    metrics = scrape(app)
    assert metrics["incident_audit_verification_ok"] == 1 and metrics["incident_audit_problems"] == 0
    assert metrics["incident_audit_verification_age_seconds"] == 90
    assert metrics["incident_audit_rows_checked"] >= 5
    assert metrics['incident_worker_heartbeat_age_seconds{kind="timer"}'] == 90
