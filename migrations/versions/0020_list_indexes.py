"""Indexes the paged lists need at 100,000 incidents (issue 14, docs/web.md "Lists and pages"):
open tasks by role and deadline (the inboxes), audit rows by person and incident (the auditors'
search by person), a requester's incidents newest first (the portal).

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_open_tasks_role_due", "open_tasks", ["candidate_role", "due_at"])
    op.create_index("ix_audit_events_actor_incident", "audit_events", ["actor_id", "incident_id"])
    op.create_index("ix_incidents_requester_created", "incidents", ["requester_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_requester_created", "incidents")
    op.drop_index("ix_audit_events_actor_incident", "audit_events")
    op.drop_index("ix_open_tasks_role_due", "open_tasks")
