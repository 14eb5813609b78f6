"""Every request gets an id (the caller's `X-Request-ID` if it is a sane one, else a new one): it is
logged with the request, returned in the response, and written into every audit row the request
causes (`app.audit.request_id`). Each request is also counted and timed for /metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request
from flask.wrappers import Response

from app import audit
from app.observability import metrics

log = logging.getLogger("app.requests")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # what a proxy's id may look like to be kept


def new_id() -> str:
    return uuid.uuid4().hex


def init(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_reset)


def _start() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else new_id()
    g.request_token = audit.request_id.set(g.request_id)
    g.request_began = time.perf_counter()


def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # refused before _start ran
        return response
    response.headers["X-Request-ID"] = request_id
    seconds = time.perf_counter() - g.request_began
    endpoint = request.endpoint or "unmatched"
    metrics.observe_request(endpoint, request.method, response.status_code, seconds)
    user = g.get("user")
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "event": "request",
            "method": request.method,
            "path": request.path,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "user": getattr(user, "username", None),
        },  # fmt: skip
    )
    return response


def _reset(_error: BaseException | None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        audit.request_id.reset(token)
