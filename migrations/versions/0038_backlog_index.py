"""The backlog now from an index of the open incidents (app/reports/models.py, issue 14): stage, group and
level, with type and id included, only for incidents waiting for registration or open, so the reports'
backlog is an index-only scan instead of a fetch of every open incident's row.

Revision ID: 0038
Revises: 0037
"""

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

OPEN_NOW = sa.text("status IN ('new', 'open')")


def upgrade() -> None:
    op.create_index(
        "ix_incidents_backlog",
        "incidents",
        ["current_stage", "current_group", "level"],
        postgresql_include=["type", "id"],
        postgresql_where=OPEN_NOW,
        sqlite_where=OPEN_NOW,
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_backlog", "incidents")
