"""An incident keeps who resolved it last (`incidents.resolver_id`, an account id as in the audit rows'
`actor_id`; none when the system did): a reopened incident's step goes back to them
(app/incidents/assignments.after_reopen) without searching the incident's audit rows for it, a read
that grew with the incident's history (issue 13). Filled here from those rows.

Revision ID: 0037
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("resolver_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE incidents SET resolver_id = (SELECT a.actor_id FROM audit_events a WHERE a.incident_id = incidents.id"
        " AND a.kind = 'resolved' ORDER BY a.id DESC LIMIT 1)"
        " WHERE id IN (SELECT incident_id FROM audit_events WHERE kind = 'resolved')"
    )


def downgrade() -> None:
    # Not a batch: on SQLite it would copy the table and lose its expression index (migration 0025).
    op.execute("ALTER TABLE incidents DROP COLUMN resolver_id")
