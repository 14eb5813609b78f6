"""Links between incidents: duplicates, related, causes, and major incidents' children (app/links).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_id", sa.Integer(), nullable=False),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["from_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["to_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("from_id", "to_id", "kind"),
    )
    with op.batch_alter_table("incident_links") as batch:
        batch.create_index("ix_incident_links_from_id", ["from_id"])
        batch.create_index("ix_incident_links_to_kind", ["to_id", "kind"])


def downgrade() -> None:
    op.drop_table("incident_links")
