"""Per-day report counters (app/reports/counters.py, issue 14): per local day and key the counts,
sums and duration histograms the period reports add up, and what each incident contributes to
them, written from the incidents and the report roll-ups already there; an index for a person's
latest completion.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_day_counts",
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("grp", sa.String(length=400), nullable=False),
        sa.Column("person", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("timely", sa.Integer(), nullable=False),
        sa.Column("us", sa.BigInteger(), nullable=False),
        sa.Column("us2", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "day", "type", "level", "grp", "person", "bucket"),
    )
    op.create_table(
        "report_incident_counts",
        sa.Column("incident_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("material", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_index("ix_report_task_spans_actor_completed", "report_task_spans", ["actor_id", "completed_at"])
    _backfill()


def _backfill() -> None:
    from sqlalchemy.orm import Session

    from app.reports import counters

    counters.rebuild_days(Session(bind=op.get_bind()))  # the months: 0034


def downgrade() -> None:
    op.drop_index("ix_report_task_spans_actor_completed", "report_task_spans")
    op.drop_table("report_incident_counts")
    op.drop_table("report_day_counts")
