"""/healthz, /readyz (database, schema at head, a fresh timer-worker heartbeat) and who may read /metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from app.observability.heartbeats import Heartbeat
from tests.conftest import AUDIT_KEY, FAST_HASH


def test_healthz_answers_without_touching_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_needs_a_fresh_timer_worker(app, db, clock):
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "checks": {
        "database": "ok", "migrations": "ok", "timer_worker": "no fresh heartbeat"}}  # fmt: skip
    Heartbeat(db, "timer")()  # what the worker does after each sweep
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["status"] == "ok"
    clock.tick(timedelta(seconds=app.config["HEARTBEAT_MAX_AGE_SECONDS"] + 1))  # the worker stopped
    assert client.get("/readyz").json["checks"]["timer_worker"] == "no fresh heartbeat"


def test_readyz_says_when_the_schema_is_behind(app, db):
    Heartbeat(db, "timer")()
    with db.engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        connection.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    try:
        response = app.test_client().get("/readyz")
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert response.status_code == 503 and response.json["checks"]["migrations"] == "at 0004, not at head"


def test_readyz_without_a_database_is_unavailable(tmp_path):
    from app import create_app

    app = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "SECRET_KEY": "t", "TESTING": True,
                      "AUDIT_HMAC_KEY": AUDIT_KEY, "PASSWORD_HASH_METHOD": FAST_HASH,
                      "AUDIT_CHECKPOINT_DIR": str(tmp_path)})  # fmt: skip
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["database"] == "unreachable"


@pytest.mark.parametrize(
    "environ, headers, allowed",
    [
        ({"REMOTE_ADDR": "127.0.0.1"}, {}, True),
        ({"REMOTE_ADDR": "::1"}, {}, True),
        ({"REMOTE_ADDR": "10.1.2.3"}, {}, False),
        ({"REMOTE_ADDR": "127.0.0.1"}, {"X-Forwarded-For": "10.1.2.3"}, False),  # through a proxy on this host
    ],
    ids=["loopback", "loopback-v6", "another-host", "via-proxy"],
)
def test_metrics_are_for_this_machine_only_without_a_token(app, environ, headers, allowed):
    response = app.test_client().get("/metrics", environ_base=environ, headers=headers)
    assert response.status_code == (200 if allowed else 404)
    if allowed:
        assert response.content_type.startswith("text/plain; version=")
        assert "# TYPE incident_http_requests_total counter" in response.get_data(as_text=True)


def test_metrics_with_a_token_need_it_from_everywhere(app):
    app.config["METRICS_TOKEN"] = "s3cret-token"
    client = app.test_client()
    assert client.get("/metrics").status_code == 404  # loopback alone is not enough any more
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}, environ_base=remote)
    assert ok.status_code == 200
