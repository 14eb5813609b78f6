"""Two report figures counted from indexes alone (issue 14):

- the open tasks per role and assignee: an index of those two columns, which replaces the index of the
  role alone (`ix_open_tasks_role_due` and this one both begin with it: an action writes no more
  index entries);
- the deadline breaches, each incident once at its first breach in the period: `report_events` says of
  each breach whether its incident breached before (`breached_before`, filled here from the breaches
  already there, in chain order), and the `(kind, at)` index carries what the breaches and reopens read
  (PostgreSQL), so that a period's breaches are counted without sorting them per incident.

Revision ID: 0039
Revises: 0038
"""

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

EVENT_COLUMNS = ["incident_id", "audit_id", "level", "support_group", "breached_before"]


def upgrade() -> None:
    op.create_index("ix_open_tasks_role_assignee", "open_tasks", ["candidate_role", "assignee_id"])
    op.drop_index("ix_open_tasks_candidate_role", "open_tasks")
    with op.batch_alter_table("report_events") as batch:
        batch.add_column(sa.Column("breached_before", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE report_events SET breached_before = TRUE WHERE kind = 'deadline_breach' AND EXISTS ("
        "SELECT 1 FROM report_events AS earlier WHERE earlier.incident_id = report_events.incident_id"
        " AND earlier.kind = 'deadline_breach' AND earlier.audit_id < report_events.audit_id)"
    )
    op.drop_index("ix_report_events_kind_at", "report_events")
    op.create_index("ix_report_events_kind_at", "report_events", ["kind", "at"], postgresql_include=EVENT_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_report_events_kind_at", "report_events")
    op.create_index("ix_report_events_kind_at", "report_events", ["kind", "at"])
    with op.batch_alter_table("report_events") as batch:
        batch.drop_column("breached_before")
    op.create_index("ix_open_tasks_candidate_role", "open_tasks", ["candidate_role"])
    op.drop_index("ix_open_tasks_role_assignee", "open_tasks")
