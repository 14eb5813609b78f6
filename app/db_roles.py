"""PostgreSQL roles: the app connects as a role that may only read and append to the audit tables.

The schema's owner (`DATABASE_OWNER_URL`) runs the migrations and then grants the app's role
(the user of `DATABASE_URL`) what the app needs: read and write on the working tables, SELECT and
INSERT only on the audit tables, SELECT only on `alembic_version`, the sequences, and nothing else
— no TRUNCATE, no REFERENCES or TRIGGER, no DDL. Only the owner can switch the audit triggers off
or drop the tables, and the app never holds the owner's password. See docs/security.md.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import normalize_url

APPEND_ONLY_TABLES = ("audit_events", "audit_verifications")
READ_ONLY_TABLES = ("alembic_version",)


def role_of(url: str) -> str | None:
    return make_url(normalize_url(url)).username


def grant_app_role(owner_url: str, role: str) -> None:
    """Give `role` exactly the app's privileges on every table (run after each migration: new tables need them)."""
    engine = create_engine(normalize_url(owner_url))
    try:
        with engine.begin() as connection:
            quoted = connection.dialect.identifier_preparer.quote(role)
            for statement in _grants(quoted):
                connection.execute(text(statement))
    finally:
        engine.dispose()


def _grants(role: str) -> list[str]:
    append_only = ", ".join(APPEND_ONLY_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE CREATE ON SCHEMA public FROM {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON {', '.join(READ_ONLY_TABLES)} FROM {role}",
        f"REVOKE UPDATE, DELETE ON {append_only} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]


def grants_sql(role: str) -> str:
    """The same grants as SQL, for a DBA to read or run by hand."""
    return "\n".join(f"{statement};" for statement in _grants(role))
