"""/healthz (the process answers), /readyz (it can serve: database, schema, workers) and /metrics.

/healthz and /readyz are open (they say nothing but ok or what is not); /metrics only to a client on
the machine itself that did not come through a proxy, or with `Authorization: Bearer METRICS_TOKEN`.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from functools import cache

from alembic.script import ScriptDirectory
from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import text

from app.migrate import alembic_config
from app.models import utcnow
from app.observability import metrics
from app.observability.heartbeats import last_beats

bp = Blueprint("health", __name__)

WORKERS = ("timer",)  # kinds of worker /readyz expects a fresh heartbeat of
LOOPBACK = {"127.0.0.1", "::1"}


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    checks: dict[str, str] = {}
    db = current_app.extensions["db"]
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current = set(session.execute(text("SELECT version_num FROM alembic_version")).scalars())
            checks["migrations"] = "ok" if current == _heads() else f"at {','.join(sorted(current))}, not at head"
            if current_app.config["READYZ_WORKERS"]:
                beats, now = last_beats(session), utcnow()
                limit = timedelta(seconds=float(current_app.config["HEARTBEAT_MAX_AGE_SECONDS"]))
                for kind in WORKERS:
                    beat = beats.get(kind)
                    checks[f"{kind}_worker"] = "ok" if beat and now - beat <= limit else "no fresh heartbeat"
    except Exception as error:  # the database is down, or the schema is not there
        current_app.logger.warning("readiness check failed: %s", error)
        if checks.setdefault("database", "unreachable") == "ok":
            checks.setdefault("migrations", "no schema")
    ready = all(value == "ok" for value in checks.values()) and "migrations" in checks
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


@bp.route("/metrics")
def metrics_page():
    if not _may_read_metrics():
        abort(404)  # as if there were none
    body = metrics.render(current_app.extensions["db"], WORKERS)
    return Response(body, mimetype=None, content_type=metrics.CONTENT_TYPE)


def _may_read_metrics() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token:
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers


@cache
def _heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
