"""The inbox read in parts, each along its own index in the inbox's order (app.web.queries, issue 14):
the parts of migration 0023 (unclaimed tasks by role, by kind, by lane) and the tasks assigned to a
person, each index ending with the order (deadline, created, id), so that a page reads its rows and
no more. One OR along the deadline index walked past every other open task to reach the service
desk's registrations, which have no deadline and sort last. The assignee's index replaces the plain
one on `assignee_id`; the partial ones keep the columns their counts filter on.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

UNCLAIMED = sa.text("assignee_id IS NULL")
KEY = ["due_at", "created_at", "id"]
BEFORE = {
    "ix_open_tasks_unclaimed_role": ["candidate_role"],
    "ix_open_tasks_unclaimed_spec": ["spec_id", "candidate_role"],
    "ix_open_tasks_unclaimed_lane": ["lane", "candidate_role", "spec_id"],
}
AFTER = {
    "ix_open_tasks_unclaimed_role": ["candidate_role", *KEY],
    "ix_open_tasks_unclaimed_spec": ["spec_id", *KEY, "candidate_role"],
    "ix_open_tasks_unclaimed_lane": ["lane", *KEY, "candidate_role", "spec_id"],
}


def upgrade() -> None:
    op.create_index("ix_open_tasks_assignee_due", "open_tasks", ["assignee_id", *KEY])
    op.drop_index("ix_open_tasks_assignee_id", "open_tasks")
    _replace(AFTER)


def downgrade() -> None:
    _replace(BEFORE)
    op.create_index("ix_open_tasks_assignee_id", "open_tasks", ["assignee_id"])
    op.drop_index("ix_open_tasks_assignee_due", "open_tasks")


def _replace(indexes: dict[str, list[str]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, "open_tasks")
        op.create_index(name, "open_tasks", columns, postgresql_where=UNCLAIMED, sqlite_where=UNCLAIMED)
