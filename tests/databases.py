"""The test databases: one SQLite file and one PostgreSQL database per test process, migrated once and
emptied after each test (tests/conftest.py's `database_url` and `db` fixtures).

Under pytest-xdist (the README's test command runs on every core) each worker is its own test process:
its PostgreSQL database is TEST_DATABASE_URL's with the worker's name appended (`test_gw0`, `test_gw1`, …),
made on the fly, so workers never see each other's rows; its SQLite file is in its own temporary folder.
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import migrate
from app.db import Base, normalize_url

# After each test on PostgreSQL, in one round trip: every table emptied (as a superuser, past the
# triggers that refuse deleting from the audit log) and every sequence back at its start, as TRUNCATE …
# RESTART IDENTITY would: all of them, also those a migration set but nothing used since (pg_sequences
# shows no last value for those, yet their next value is not the start). DELETE, not TRUNCATE: a test
# leaves a few rows, and TRUNCATE gives each of the ~30 tables and their indexes new files, about a
# second per test against ~50 ms.
EMPTY_POSTGRESQL = """
DO $$
DECLARE item record;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename <> 'alembic_version' LOOP
        EXECUTE 'DELETE FROM ' || quote_ident(item.tablename);
    END LOOP;
    PERFORM setval(sequence.seqrelid, sequence.seqstart, false)
    FROM pg_sequence sequence JOIN pg_class class ON class.oid = sequence.seqrelid
    WHERE class.relnamespace = current_schema()::regnamespace;
END $$
"""


def worker() -> str | None:
    """The pytest-xdist worker this process is ("gw0", …), or None when pytest runs alone."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def prepare_postgresql(url: str) -> str:
    """This process's PostgreSQL database, made if missing, its schema new and migrated: its URL."""
    url = blank_postgresql(url)
    migrate.upgrade(url)
    return url


def blank_postgresql(url: str, purpose: str = "") -> str:
    """This process's PostgreSQL database (for a `purpose`, one beside it), made if missing, its schema new
    and empty — not migrated: its URL."""
    url = normalize_url(url)
    suffix = "_".join(part for part in (purpose, worker()) if part)
    if suffix:
        url = _own_database(url, f"{make_url(url).database}_{suffix}")
    engine = create_engine(url)
    with engine.begin() as connection:  # the test database is ours to wipe
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def prepare_sqlite(folder) -> str:
    url = f"sqlite:///{folder / 'test.sqlite3'}"
    migrate.upgrade(url)
    return url


def _own_database(url: str, name: str) -> str:
    """A database beside TEST_DATABASE_URL's, on the same server, as the same user."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def empty(database) -> None:
    """Every row the test left, gone (the schema stays)."""
    with database.engine.begin() as connection:
        if database.is_postgresql:
            connection.execute(text(EMPTY_POSTGRESQL))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(text(f"DELETE FROM {table.name}"))
