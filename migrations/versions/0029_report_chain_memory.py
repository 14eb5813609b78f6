"""What the report roll-ups remember of each incident's audit chain (`report_chain_memory`), so that a
new audit row's roll-up rows no longer read the incident's whole chain (issue 13). Empty at first: an
incident's memory is built from its chain the first time it is needed (`app.reports.memory`).

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_chain_memory",
        sa.Column("incident_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("memory", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
    )


def downgrade() -> None:
    op.drop_table("report_chain_memory")
