"""Stored repeat analyses (app/reports/stored_repeats.py, issue 14): the groups of repeat incidents
of a period with many incidents, computed by the timer worker and read by the reports page.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op


revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repeat_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_start", "period_end", "type", "level", name="uq_repeat_analyses_filter"),
    )
    op.create_index("ix_repeat_analyses_requested_at", "repeat_analyses", ["requested_at"])
    op.create_table(
        "repeat_analysis_rows",
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("suggested_title", sa.String(length=200), nullable=False),
        sa.Column("group_has_problem_ticket", sa.Boolean(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("has_problem_ticket", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["analysis_id"], ["repeat_analyses.id"]),
        sa.PrimaryKeyConstraint("analysis_id", "group_no", "position"),
    )


def downgrade() -> None:
    op.drop_table("repeat_analysis_rows")
    op.drop_index("ix_repeat_analyses_requested_at", "repeat_analyses")
    op.drop_table("repeat_analyses")
