"""A request id on every response and log line, carried into the audit rows the request wrote; JSON logs."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from sqlalchemy import select

from app import audit
from app.models import AuditEvent
from app.observability import logs
from app.observability.logs import JsonFormatter, RequestIdFilter
from tests.web.conftest import Client


def test_the_request_id_reaches_the_audit_rows(app, db, actors, caplog):
    client = Client(app.test_client())
    client.get("/login")
    caplog.set_level(logging.INFO, logger="app.requests")
    response = client.post("/login", {"username": "service_desk", "password": "password123"},
                           headers={"X-Request-ID": "lb-7f3a.1"})  # fmt: skip
    assert response.status_code == 302 and response.headers["X-Request-ID"] == "lb-7f3a.1"  # kept: a sane id
    with db.read() as session:
        signed_in = session.scalar(select(AuditEvent).where(AuditEvent.kind == "signed_in"))
    assert signed_in.request_id == "lb-7f3a.1"  # and covered by the row's HMAC
    logged = [record for record in caplog.records if getattr(record, "path", None) == "/login"][-1]
    assert (logged.method, logged.status, logged.endpoint) == ("POST", 302, "auth.login")
    assert logged.duration_ms >= 0


def test_an_id_that_is_not_sane_is_replaced(app):
    response = app.test_client().get("/healthz", headers={"X-Request-ID": "x" * 65})
    given = response.headers["X-Request-ID"]
    assert len(given) == 32 and given != "x" * 65
    assert app.test_client().get("/healthz").headers["X-Request-ID"] != given  # one per request


def test_json_log_lines_carry_the_request_id_and_extras():
    record = logging.LogRecord("app.requests", logging.INFO, __file__, 1, "GET %s", ("/inbox",), None)
    record.status = 200
    token = audit.request_id.set("abc123")
    try:
        RequestIdFilter().filter(record)
    finally:
        audit.request_id.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /inbox" and line["request_id"] == "abc123" and line["status"] == 200
    assert line["level"] == "INFO" and line["logger"] == "app.requests" and line["time"].endswith("+00:00")


@pytest.mark.parametrize(("level", "engine_lines"), [("INFO", False), ("DEBUG", True)])
def test_the_engine_logs_task_changes_only_at_debug(level, engine_lines):
    """SpiffWorkflow logs every task state change at INFO with the task's whole data: several KB a
    line, ~20 lines an action, the incident's data in the logs. Production logs get only its warnings."""
    app = Flask(__name__)
    app.config.update(LOG_FORMAT="json", LOG_LEVEL=level)
    root, engine = logging.getLogger(), logging.getLogger(logs.ENGINE_LOGGER)
    saved = (root.level, engine.level, list(root.handlers))
    try:
        logs.configure(app)
        assert logging.getLogger("spiff.task").isEnabledFor(logging.INFO) is engine_lines
        assert logging.getLogger("spiff.task").isEnabledFor(logging.WARNING)
        assert logging.getLogger("app.requests").isEnabledFor(logging.INFO)  # the app's own lines stay
    finally:
        root.handlers[:] = saved[2]
        root.setLevel(saved[0])
        engine.setLevel(saved[1])
