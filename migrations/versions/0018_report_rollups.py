"""Report roll-ups (app/reports/models.py): a row per completed task with its waiting and working
time, a row per breach, reopen, return from a change and first handling step, worked out from the
audit log already there; indexes for the reports' periods on registration and closure times.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_task_spans",
        sa.Column("audit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("spec_id", sa.String(length=100), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("roles", sa.String(length=400), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waiting_seconds", sa.Float(), nullable=False),
        sa.Column("working_seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("audit_id"),
    )
    op.create_table(
        "report_events",
        sa.Column("audit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=True),
        sa.Column("support_group", sa.String(length=40), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("audit_id"),
    )
    with op.batch_alter_table("report_task_spans") as batch:
        batch.create_index("ix_report_task_spans_incident_id", ["incident_id"])
        batch.create_index("ix_report_task_spans_completed_at", ["completed_at"])
    with op.batch_alter_table("report_events") as batch:
        batch.create_index("ix_report_events_incident_id", ["incident_id"])
        batch.create_index("ix_report_events_kind_at", ["kind", "at"])
    with op.batch_alter_table("incidents") as batch:
        batch.create_index("ix_incidents_registered_at", ["registered_at"])
        batch.create_index("ix_incidents_closed_at", ["closed_at"])
    _backfill()


def _backfill() -> None:
    from sqlalchemy.orm import Session

    from app.reports.rollup import rebuild

    rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_closed_at")
        batch.drop_index("ix_incidents_registered_at")
    op.drop_table("report_events")
    op.drop_table("report_task_spans")
