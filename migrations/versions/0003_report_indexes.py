"""Indexes the reports need: incidents by resolution time, audit events by kind and time.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.create_index("ix_incidents_resolved_at", ["resolved_at"])
    with op.batch_alter_table("audit_events") as batch:
        batch.create_index("ix_audit_events_kind_at", ["kind", "at"])


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index("ix_audit_events_kind_at")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_resolved_at")
