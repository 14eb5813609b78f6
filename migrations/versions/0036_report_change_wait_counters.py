"""The waits for a change are counted with the other durations (app/reports/counters.py, issue 14): per
local day and month, their sum and a histogram of 0.01 h, so that a year's report reads counters instead
of sorting the year's waits; what each incident contributes now names its waits, so every counter is
written again.

Revision ID: 0036
Revises: 0035
"""

from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from sqlalchemy.orm import Session

    from app.reports import counters

    counters.rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.execute("DELETE FROM report_day_counts WHERE metric = 'change_wait'")
    op.execute("DELETE FROM report_month_counts WHERE metric = 'change_wait'")
