"""Migration 0008 re-chains an existing audit log into keyed per-incident chains, and refuses to
re-sign one that does not verify (on SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select, text

from app.audit import audit_key
from app.audit.verification import verify
from app.migrate import alembic_config
from app.models import AuditEvent
from tests.conftest import AUDIT_KEY
from tests.driver import pass_on, registration

MIGRATION = importlib.import_module("migrations.versions.0008_audit_chains_per_incident")


def _rows(db):
    """The rows of the old table, typed as the migration reads them."""
    columns = [column for column in MIGRATION._columns(new=False) if isinstance(column, sa.Column)]
    table = sa.table("audit_events", *(sa.column(column.name, column.type) for column in columns))
    with db.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(table).order_by(table.c.id))]


def _old_chain_verifies(db) -> bool:
    rows, previous = _rows(db), "0" * 64
    for row in rows:
        if row["prev_hash"] != previous or MIGRATION._old_hash(row) != row["hash"]:
            return False
        previous = row["hash"]
    with db.engine.connect() as connection:
        head = connection.execute(text("SELECT last_id, last_hash FROM audit_head")).one()
    return tuple(head) == (len(rows), previous)


@pytest.fixture
def old_log(desk, db, database_url):
    """Two incidents and an account change, then the database taken back to the global chain (0007)."""
    first = desk.register(registration(complaints=20))
    desk.complete("service_desk", first, "initial_support", pass_on("first_line"))
    desk.register(registration(complaints=3))
    with db.read() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        before = [(e.kind, e.incident_id, e.data) for e in events]
    db.engine.dispose()
    command.downgrade(alembic_config(database_url), "0007")
    yield before
    db.engine.dispose()
    command.upgrade(alembic_config(database_url, AUDIT_KEY.encode()), "head")


def test_an_intact_log_is_re_chained_per_incident_with_the_key(db, database_url, old_log):
    assert _old_chain_verifies(db)  # the downgrade wrote the old global chain
    command.upgrade(alembic_config(database_url, AUDIT_KEY.encode()), "head")
    with db.read() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        result = verify(session, audit_key(session))
    assert [(e.kind, e.incident_id, e.data) for e in events] == old_log  # nothing lost or changed
    # in the same order, numbered as the old chain numbered them (from 1 without gaps; an action leaves
    # the ids it reserved and did not use as a gap, app/audit)
    assert [e.id for e in events] == list(range(1, len(old_log) + 1))
    assert result.ok and result.rows == len(old_log) and result.chains == 3  # two incidents, the process
    assert [e.seq for e in events if e.chain == "incident:1"] == [1, 2, 3, 4, 5, 6]
    assert {e.chain for e in events if e.incident_id is None} == {"process"}


def test_a_log_that_does_not_verify_is_not_re_signed(db, database_url, old_log):
    target = 4  # the fourth row: the old chain numbers them from 1 without gaps
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("UPDATE audit_events SET actor_name = 'someone else' WHERE id = :id"), {"id": target})
    with pytest.raises(RuntimeError, match=f"the audit log does not verify at row {target}: it is not re-signed"):
        command.upgrade(alembic_config(database_url, AUDIT_KEY.encode()), "head")
    with db.engine.begin() as connection:  # put it back, so the fixture can upgrade again
        if db.is_postgresql:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("UPDATE audit_events SET actor_name = 'service_desk user' WHERE id = :id"),
                           {"id": target})  # fmt: skip


def test_re_signing_needs_the_key(db, database_url, old_log):
    with pytest.raises(RuntimeError, match="re-signing the audit log needs its key"):
        command.upgrade(alembic_config(database_url), "head")
