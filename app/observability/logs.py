"""Structured logs: one JSON object per line on stderr, with the request (or job) id of the audit rows.

`LOG_FORMAT=json` (the default) or `text`; `LOG_LEVEL` (INFO). Tests leave logging alone.
SpiffWorkflow logs every task's state change at INFO with the task's whole data (~20 lines of several
KB per action: most of a task POST's CPU, and the incident's data in the logs); its loggers (`spiff.*`)
log only warnings unless `LOG_LEVEL=DEBUG`. The audit log is the history of an incident.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from flask import Flask

from app import audit

ENGINE_LOGGER = "spiff"  # SpiffWorkflow's loggers: spiff.task, spiff.workflow, spiff.data, …

# What a LogRecord always has; anything else on it came in `extra=` and goes into the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = audit.request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def handler(json_format: bool) -> logging.Handler:
    stream = logging.StreamHandler(sys.stderr)
    stream.addFilter(RequestIdFilter())
    stream.setFormatter(JsonFormatter() if json_format else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))  # fmt: skip
    return stream


def configure(app: Flask) -> None:
    if app.testing:
        return
    root = logging.getLogger()
    if any(getattr(existing, "app_handler", False) for existing in root.handlers):
        return  # configured by an earlier app in this process
    stream = handler(str(app.config["LOG_FORMAT"]).lower() == "json")
    stream.app_handler = True
    root.addHandler(stream)
    level = str(app.config["LOG_LEVEL"]).upper()
    root.setLevel(level)
    logging.getLogger(ENGINE_LOGGER).setLevel(level if level == "DEBUG" else logging.WARNING)
