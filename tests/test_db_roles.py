"""PostgreSQL: the app's role reads and appends to the audit log but can neither change, delete nor
truncate it, nor switch its triggers off; the app works fully as that role."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import audit, db_roles
from app.audit import SYSTEM
from app.audit.verification import verify
from app.db import Database
from app.incidents.service import IncidentService
from app.models import utcnow
from tests.conftest import AUDIT_KEY
from tests.driver import Desk, pass_on, registration

APP_ROLE = "incident_app_test"
CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} LOGIN PASSWORD 'app-secret';
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$
"""


@pytest.fixture
def app_db(db, database_url):
    """The test database as the app's role sees it (the role is created once, its grants each time)."""
    if not db.is_postgresql:
        pytest.skip("SQLite has no roles: protect its file with the file system's permissions (docs/security.md)")
    with db.engine.begin() as connection:  # roles are the server's: another test process may make it first
        connection.execute(text(CREATE_ROLE))
    db_roles.grant_app_role(database_url, APP_ROLE)
    url = make_url(database_url).set(username=APP_ROLE, password="app-secret")
    app_database = Database(url.render_as_string(hide_password=False), audit_key=AUDIT_KEY.encode())
    yield app_database
    app_database.dispose()
    with db.engine.begin() as connection:  # the next test's schema is new: take the role's grants away with it
        connection.execute(text(f"DROP OWNED BY {APP_ROLE}"))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor_name = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        "DROP TABLE audit_events",
        "UPDATE audit_verifications SET ok = true",
        "DELETE FROM audit_verifications",
        "DELETE FROM alembic_version",
    ],
)
def test_the_app_role_cannot_change_the_audit_log(app_db, desk, statement):
    desk.register(registration(complaints=20))
    with pytest.raises(Exception, match="permission denied|must be owner"), app_db.engine.begin() as connection:
        connection.execute(text(statement))
    with app_db.read() as session:
        assert verify(session, AUDIT_KEY.encode()).ok


def test_the_app_works_as_its_role(app_db, service, actors):
    """Every kind of write an action makes (incident, state, open tasks, audit rows) is allowed."""
    desk = Desk(IncidentService(app_db), app_db, actors)
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    with app_db.transaction() as session:
        audit.append(session, kind="probe", actor=SYSTEM, at=utcnow(), data={})
    with app_db.read() as session:
        result = verify(session, AUDIT_KEY.encode())
    assert result.ok and result.chains == 3 and desk.open_specs(incident_id) == ["first_line_handling"]
    with app_db.engine.connect() as connection:
        assert connection.execute(text("SELECT current_user")).scalar() == APP_ROLE


def test_db_upgrade_as_the_owner_grants_the_app_role(app_db, database_url, tmp_path, db):
    from app import create_app

    app_url = app_db.engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": app_url, "DATABASE_OWNER_URL": database_url, "SECRET_KEY": "t",
                      "TESTING": True, "AUDIT_HMAC_KEY": AUDIT_KEY, "AUDIT_CHECKPOINT_DIR": str(tmp_path)})  # fmt: skip
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP OWNED BY {APP_ROLE}"))  # as if the role were new
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"role {APP_ROLE}: SELECT and INSERT only on audit_events, audit_verifications" in result.output
    owner = create_engine(database_url)
    with owner.connect() as connection:
        privileges = set(connection.execute(text(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = :role AND table_name = 'audit_events'"), {"role": APP_ROLE}).scalars())  # fmt: skip
    owner.dispose()
    app.extensions["db"].dispose()
    assert privileges == {"SELECT", "INSERT"}


def test_grants_are_printed_for_a_dba(app):
    result = app.test_cli_runner().invoke(args=["db", "grants", "incident_app"])
    assert "REVOKE UPDATE, DELETE ON audit_events, audit_verifications FROM incident_app;" in result.output
    assert "TRUNCATE" not in result.output.replace("REVOKE ALL", "")  # never granted
