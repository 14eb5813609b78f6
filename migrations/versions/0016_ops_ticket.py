"""The xxxIT operations platform's ticket number (xxxIT平台工单号) on the incident, searchable.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("ops_ticket", sa.String(length=200), nullable=True))
        batch.create_index("ix_incidents_ops_ticket", ["ops_ticket"])


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_ops_ticket")
        batch.drop_column("ops_ticket")
