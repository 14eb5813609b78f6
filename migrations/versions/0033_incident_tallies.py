"""The incidents counted by status, type and level by the timer worker (app/tallies, issue 14): the
overview's breakdowns read the last count instead of counting every incident on each request.

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_tallies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("type", sa.String(20), nullable=True),
        sa.Column("level", sa.String(10), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index("ix_incident_tallies_counted_at", "incident_tallies", ["counted_at"])


def downgrade() -> None:
    op.drop_index("ix_incident_tallies_counted_at", "incident_tallies")
    op.drop_table("incident_tallies")
