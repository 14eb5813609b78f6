"""Similar incidents on PostgreSQL read their candidates nearest first from a GiST trigram index over
the titles and descriptions only (`ORDER BY body <-> typed LIMIT n`, k-nearest-neighbour), instead
of collecting every text the GIN index matches (`%`, tens of thousands at 100,000 incidents) and
sorting them (issue 14, docs/search.md). Not a model, as the GIN index is not. With the default
signature length: a longer one (`gist_trgm_ops(siglen=256)`) walked about twice as fast, but on
PostgreSQL 15 an index with operator-class options breaks `DROP EXTENSION pg_trgm CASCADE` and so
`DROP SCHEMA public CASCADE` ("operator class gist_trgm_ops has no options"), which the tests and
bench/fill.py --reset use.

Revision ID: 0024
Revises: 0023
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_search_documents_similar ON search_documents "
                   "USING gist (body gist_trgm_ops) WHERE kind IN ('title', 'description')")  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_search_documents_similar")
