"""Shared fixtures: a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set), migrated
once per session and emptied after each test, the published process, and one account per role."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import create_engine, text

from app import migrate, versions
from app.audit import SYSTEM
from app.db import Base, Database
from app.incidents.service import IncidentService
from app.users import ROLES, actor_of, create_user

FAST_HASH = "pbkdf2:sha256:1"  # tests create many accounts; production uses scrypt
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as connection:  # the test database is ours to wipe
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)
    return url


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as connection:
        if database.is_postgresql:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    database.dispose()


@pytest.fixture
def clock():
    with freeze_time(T0) as frozen:
        yield frozen


@pytest.fixture
def service(db, clock) -> IncidentService:
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
    return IncidentService(db)


@pytest.fixture
def actors(db):
    """One actor per role, named after it (actors["service_desk"], ...)."""
    result = {}
    with db.transaction() as session:
        for role in ROLES:
            user = create_user(session, role, "password123", [role], f"{role} user", hash_method=FAST_HASH)
            result[role] = actor_of(user)
    return result
