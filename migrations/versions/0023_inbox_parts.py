"""Indexes for the parts the inbox and the menu's badge are counted in (app.web.queries, issue 14):
unclaimed open tasks by role, by kind (the kinds other roles also work, such as registration) and by
lane (requester tasks the service desk confirms on the requester's behalf), each with the columns its
part filters on, so that a count reads the index alone. Partial: claimed tasks are found by their
assignee.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

UNCLAIMED = sa.text("assignee_id IS NULL")
INDEXES = {
    "ix_open_tasks_unclaimed_role": ["candidate_role"],
    "ix_open_tasks_unclaimed_spec": ["spec_id", "candidate_role"],
    "ix_open_tasks_unclaimed_lane": ["lane", "candidate_role", "spec_id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "open_tasks", columns, postgresql_where=UNCLAIMED, sqlite_where=UNCLAIMED)


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, "open_tasks")
