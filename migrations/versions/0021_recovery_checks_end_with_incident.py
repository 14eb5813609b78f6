"""A confirm-recovery check ends with its incident (docs/api.md "Confirming the recovery"):
`recovery_checks.closed_at`. Unticked checks of incidents that had already ended are closed here at
the incident's end, without audit rows (this is not an action; from now on the closing action
audits `recovery_check_closed`).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

ENDED = "'closed', 'transferred'"  # app/incidents/projection.py: the statuses outside ACTIVE_STATUSES


def upgrade() -> None:
    with op.batch_alter_table("recovery_checks") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE recovery_checks SET closed_at = (SELECT COALESCE(incidents.closed_at, incidents.updated_at)"
        " FROM incidents WHERE incidents.id = recovery_checks.incident_id)"
        f" WHERE confirmed_at IS NULL AND incident_id IN (SELECT id FROM incidents WHERE status IN ({ENDED}))"
    )


def downgrade() -> None:
    with op.batch_alter_table("recovery_checks") as batch:
        batch.drop_column("closed_at")
