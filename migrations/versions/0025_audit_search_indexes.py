"""Indexes of the auditors' search and export (issue 14, docs/bench.md):
- by role (and by a person who acted on most incidents) it walks the incidents newest first and asks,
  for each, whether a row of its chain was written in that role: an index of (incident_id, actor_id,
  actor_role) answers from the index alone, where the plain incident_id index read the chain's rows;
- by registration date it filters on coalesce(registered_at, created_at) (an incident raised in the
  portal is not registered yet): an index of that expression, where a count or an export read every
  incident.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_incident_actor", "audit_events", ["incident_id", "actor_id", "actor_role"])
    op.create_index("ix_incidents_registered_or_created", "incidents", [sa.text("coalesce(registered_at, created_at)")])


def downgrade() -> None:
    op.drop_index("ix_incidents_registered_or_created", "incidents")
    op.drop_index("ix_audit_events_incident_actor", "audit_events")
