"""Database sessions: a read session never writes (on PostgreSQL it runs without a transaction);
pooled PostgreSQL connections are pinged only after sitting idle, and a dead one is replaced, not
handed to a request (app.db.PING_AFTER_IDLE_SECONDS)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text, update

from app import db as app_db
from app.db import Database, ReadOnlyViolation
from app.models import User


@pytest.fixture
def postgresql(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no connection pool to ping")
    database = Database(database_url)
    yield database
    database.dispose()


def pings(database: Database) -> list[int]:
    """Counts the pings (do_ping) the pool sends through `database`."""
    sent: list[int] = []
    original = database.engine.dialect.do_ping

    def counted(dbapi_connection):
        sent.append(1)
        return original(dbapi_connection)

    database.engine.dialect.do_ping = counted
    return sent


def backend_pid(database: Database) -> int:
    with database.read() as session:
        return session.scalar(text("SELECT pg_backend_pid()"))


def test_a_connection_used_just_now_is_not_pinged(postgresql):
    backend_pid(postgresql)  # opens the pooled connection
    sent = pings(postgresql)
    for _ in range(3):  # a page's short transactions, one after the other
        backend_pid(postgresql)
    assert sent == []


def test_an_idle_connection_that_died_is_replaced(postgresql, monkeypatch):
    dead = backend_pid(postgresql)
    other = Database(postgresql.url)
    with other.engine.begin() as connection:  # the server ends it while it sits in the pool
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead})
    other.dispose()
    monkeypatch.setattr(app_db, "PING_AFTER_IDLE_SECONDS", -1.0)  # as if it had sat idle long enough
    sent = pings(postgresql)
    fresh = backend_pid(postgresql)  # no error: the ping failed, the pool connected anew
    assert sent and fresh != dead


def test_a_fresh_connection_is_not_pinged(postgresql):
    connected: list[int] = []
    event.listen(postgresql.engine, "connect", lambda *_: connected.append(1))
    sent = pings(postgresql)
    backend_pid(postgresql)
    assert connected == [1] and sent == []


def test_a_read_session_refuses_to_write(db, actors):
    with pytest.raises(ReadOnlyViolation), db.read() as session:
        session.get(User, actors["first_line"].user_id).display_name = "改名"
        session.flush()
    with pytest.raises(ReadOnlyViolation), db.read() as session:
        session.execute(update(User).values(display_name="改名"))
    with db.read() as session:
        assert session.scalar(select(User.display_name).where(User.id == actors["first_line"].user_id)) == (
            "first_line user"
        )


def test_statements_planned_for_their_values_in_that_session_only(postgresql):
    """app.db.plan_for_the_values (the reports): the setting lasts for the session, and the pooled
    connection goes back to the server's default for the next one (an action, a page)."""
    with postgresql.read() as session:
        pid = session.scalar(text("SELECT pg_backend_pid()"))
        app_db.plan_for_the_values(session)
        assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
        assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    with postgresql.read() as session:
        assert session.scalar(text("SELECT pg_backend_pid()")) == pid  # the same pooled connection
        assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
    with postgresql.transaction() as session:
        assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
