"""Workers' heartbeats: each timer worker (and, later, each notification worker) writes its own row
after every good sweep; /readyz and /metrics read the newest beat of each kind.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("worker_heartbeats") as batch:
        batch.create_index("ix_worker_heartbeats_kind_beat_at", ["kind", "beat_at"])


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
