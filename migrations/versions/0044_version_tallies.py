"""The running incidents of each process version, counted by the timer worker with the overview's breakdowns
(app/tallies, issue 14): the process owner's versions page reads the last count instead of every running incident
(10,000 rows, 9.6 ms at 100,000 incidents against 0.7 at 10,000).

Revision ID: 0044
Revises: 0042
"""

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "version_tallies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index("ix_version_tallies_counted_at", "version_tallies", ["counted_at"])


def downgrade() -> None:
    op.drop_index("ix_version_tallies_counted_at", "version_tallies")
    op.drop_table("version_tallies")
