"""Similar incidents on PostgreSQL read their candidates from the distinct titles and descriptions
(`similar_texts`, folded in by the timer worker: app/search/similar.py, issue 14), then each chosen text's
newest incidents by an index of the documents' md5: the trigram probes over every document grew with the
copies of a recurring title (59,260 index entries for one text at 100,000 incidents). The trigram indexes
and the md5 one are PostgreSQL's and not models, as those of migrations 0011 and 0024. The timer worker
fills the table (its first fold reads every title and description once).

Revision ID: 0035
Revises: 0034
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "similar_texts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("newest_document_id", sa.Integer(), nullable=False),
        sa.UniqueConstraint("kind", "digest", name="uq_similar_texts_kind_digest"),
    )
    op.create_index("ix_similar_texts_newest_document_id", "similar_texts", ["newest_document_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_similar_texts_body_trgm ON similar_texts USING gin (body gin_trgm_ops)")
        op.execute("CREATE INDEX ix_similar_texts_body_nearest ON similar_texts USING gist (body gist_trgm_ops)")
        op.execute("CREATE INDEX ix_search_documents_similar_md5 ON search_documents (kind, md5(body), incident_id) "
                   "WHERE kind IN ('title', 'description')")  # fmt: skip
        op.execute("DROP INDEX ix_search_documents_similar")  # migration 0024's walk over every document


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_search_documents_similar ON search_documents "
                   "USING gist (body gist_trgm_ops) WHERE kind IN ('title', 'description')")  # fmt: skip
        op.execute("DROP INDEX ix_search_documents_similar_md5")
    op.drop_table("similar_texts")
