"""Full-text search (app/search): the searchable texts, their trigram index — pg_trgm on PostgreSQL,
an FTS5 table with the trigram tokenizer on SQLite, kept in step by triggers — and the texts of the
incidents there are already, read from the audit log.

Revision ID: 0011
Revises: 0010
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_documents', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
)
KINDS = ("started", "task_completed", "resolved", "comment_added", "work_note_added", "facts_added",
         "forwarded_for_tracking")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("search_documents") as batch:
        batch.create_index("ix_search_documents_incident_id", ["incident_id"])
        batch.create_index("ix_search_documents_audit_id", ["audit_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_search_documents_body_trgm ON search_documents USING gin (body gin_trgm_ops)")
    else:
        for statement in SQLITE_INDEX:
            op.execute(statement)
    _backfill()


def _backfill() -> None:
    from app.search.index import documents

    connection = op.get_bind()
    audit = sa.table("audit_events", sa.column("id"), sa.column("incident_id"), sa.column("kind"), sa.column("data"))
    target = sa.table("search_documents", sa.column("incident_id"), sa.column("audit_id"), sa.column("kind"),
                      sa.column("body"))  # fmt: skip
    query = sa.select(audit).where(audit.c.kind.in_(KINDS), audit.c.incident_id.is_not(None)).order_by(audit.c.id)
    rows = [
        {"incident_id": row.incident_id, "audit_id": row.id, "kind": kind, "body": body}
        for row in connection.execute(query)
        for kind, body in documents(row.kind, json.loads(row.data))
    ]
    if rows:
        connection.execute(sa.insert(target), rows)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_documents")
