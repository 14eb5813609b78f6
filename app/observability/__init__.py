"""Observability for operations: liveness and readiness probes, Prometheus metrics, JSON logs with
a request id that is carried into the audit rows, and the workers' heartbeats (docs/deployment.md).
"""

from __future__ import annotations

from flask import Flask

from app.observability import health, logs, metrics, requests


def init(app: Flask) -> None:
    logs.configure(app)
    requests.init(app)
    metrics.init(app)
    app.register_blueprint(health.bp)
