"""Shared fixtures: a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set), migrated
once per session and emptied after each test, the published process, and one account per role."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import pytest
from flask import Flask
from freezegun import freeze_time
from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.serving import make_server

from app import create_app
from app.alarms import models as alarm_models  # noqa: F401 — every table on the metadata (tests empty them all)
from app.api import models as api_models  # noqa: F401
from app.audit import SYSTEM
from app.db import Base, Database
from app.incidents.service import IncidentService
from app.models import utcnow
from app.process import versions
from app.users import ROLES, actor_of, create_user
from tests import databases
from tests.driver import Desk
from tests.seeds import Seed

FAST_HASH = "pbkdf2:sha256:1"  # tests create many accounts; production uses scrypt
AUDIT_KEY = "test-audit-key"  # the audit log's HMAC key in every test (the app's and the `db` fixture's)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


# Database tests run on SQLite, and on PostgreSQL too when TEST_DATABASE_URL names one (.ci/run sets it).
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def pytest_collection_modifyitems(items):
    """The long tests (`@pytest.mark.long`) first. Under -n with --dist worksteal (pyproject.toml) they
    start at once, and the workers that finish their share take short tests from the others' ends: a long
    test collected last would otherwise run alone at the end while the other worker idles."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


# Each backend's database is prepared (made, migrated) once per test process, whatever order the tests
# come in: pytest-xdist may hand a worker SQLite and PostgreSQL tests in turn, and pytest would otherwise
# set the session fixture up again at each switch.
_prepared: dict[str, str] = {}


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param not in _prepared:
        if request.param == "sqlite":
            _prepared["sqlite"] = databases.prepare_sqlite(tmp_path_factory.mktemp("db"))
        else:
            _prepared["postgresql"] = databases.prepare_postgresql(os.environ["TEST_DATABASE_URL"])
    return _prepared[request.param]


@pytest.fixture
def db(database_url):
    database = Database(database_url, audit_key=AUDIT_KEY.encode())
    yield database
    databases.empty(database)
    database.dispose()


@pytest.fixture
def clock():
    with freeze_time(T0) as frozen:
        yield frozen


def _publish(db: Database) -> None:
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)


def _accounts(db: Database) -> dict:
    result = {}
    with db.transaction() as session:
        for role in ROLES:
            user = create_user(session, role, "password123", [role], f"{role} user", hash_method=FAST_HASH)
            result[role] = actor_of(user)
    return result


# Written for real by the first test of each process and database, copied into the others (tests/seeds.py).
ACCOUNT_TABLES = frozenset({"users", "user_roles"})
PUBLISHED = Seed(_publish, other_tables=ACCOUNT_TABLES, key=utcnow)  # the clock's time is in the audit row's hash
ACCOUNTS = Seed(_accounts, other_tables=frozenset(t for t in Base.metadata.tables if t not in ACCOUNT_TABLES),
                fresh={"users.created_at": utcnow})  # fmt: skip


@pytest.fixture
def service(db, clock) -> IncidentService:
    PUBLISHED(db)
    return IncidentService(db)


@pytest.fixture
def actors(db):
    """One actor per role, named after it (actors["service_desk"], ...)."""
    return ACCOUNTS(db)


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process, not once per test: each test's app has its own Jinja
    environment, and compiling the templates a page uses was a good part of a page test's time.
    A template whose source changed is compiled again (the bucket checks the source's checksum)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


def make_app(database_url: str, tmp_path) -> Flask:
    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True, "PASSWORD_HASH_METHOD": FAST_HASH,
         "AUDIT_HMAC_KEY": AUDIT_KEY, "AUDIT_CHECKPOINT_DIR": str(tmp_path / "audit-checkpoints"),
         "MAIL_SINK": str(tmp_path / "mail")}
    )  # fmt: skip
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


@pytest.fixture(scope="session", autouse=True)
def app_loaded_with_the_real_clock(tmp_path_factory):
    """Build an app once, before any test: the modules the app imports only when it is built (its
    blueprints, the API with pydantic and its models) are then loaded with the real clock. Loaded first
    inside a test's frozen clock (`clock` before `app`, as `desk, as_role` ask), pydantic keeps
    freezegun's FakeDatetime in its type tables and the models in their fields, and a later test fails
    to build or validate a model with the real `datetime` (`pytest tests/incidents tests/comments`)."""
    folder = tmp_path_factory.mktemp("app")
    make_app(f"sqlite:///{folder / 'unused.sqlite3'}", folder)  # never connects


@pytest.fixture
def app(db, database_url, tmp_path):
    """The Flask application on the test database (the `db` fixture empties it afterwards); its mail
    sink is the test's own."""
    return make_app(database_url, tmp_path)


@pytest.fixture
def desk(service, db, actors) -> Desk:
    return Desk(service, db, actors)


@pytest.fixture
def live_server(app, db, actors):
    """The app on a free local port, with the process published and one account per role (the browser
    tests and the API's contract test).

    The clock is not frozen here: the browser keeps real time, and cookies must not look expired.
    """
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
