"""The reports page reads a stored repeat group's problem tickets now (app/reports/stored_repeats.py):
the incidents of a group that had one when grouped (a partial index), and the group of an incident
whose ticket was raised since.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    where = sa.text("has_problem_ticket")
    op.create_index("ix_repeat_analysis_rows_ticketed", "repeat_analysis_rows", ["analysis_id", "group_no"],
                    postgresql_where=where, sqlite_where=where)  # fmt: skip
    op.create_index("ix_repeat_analysis_rows_incident", "repeat_analysis_rows", ["analysis_id", "incident_id"])


def downgrade() -> None:
    op.drop_index("ix_repeat_analysis_rows_incident", "repeat_analysis_rows")
    op.drop_index("ix_repeat_analysis_rows_ticketed", "repeat_analysis_rows")
