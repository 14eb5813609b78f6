"""The deadline breaches of a period from the per-day counters (issue 14): each incident's first-ever
breach is counted per local day (metric `breach`: the level breached, the support group then, the incident's
type; app/reports/counters.py), so that the reports read a year's breaches from twelve month rows instead of
every breach event of it (13,532 at 100,000 incidents); the few breaches of incidents that breached before
are read by a partial index of their own. The counters are written again here, on PostgreSQL into emptied
tables (TRUNCATE: a rebuild's DELETE left every page of them half dead, and the reports page's counters
statement took 16 ms instead of 4 at 100,000 incidents until a VACUUM FULL).

Revision ID: 0045
Revises: 0044
"""

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_report_events_breached_again",
        "report_events",
        ["at"],
        postgresql_include=["incident_id", "audit_id", "level", "support_group"],
        postgresql_where=sa.text("kind = 'deadline_breach' AND breached_before IS true"),
        sqlite_where=sa.text("kind = 'deadline_breach' AND breached_before IS 1"),
    )
    _backfill()


COUNTERS = ("report_day_counts", "report_month_counts", "report_incident_counts")


def _backfill() -> None:
    from sqlalchemy.orm import Session

    from app.reports import counters

    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(f"TRUNCATE {', '.join(COUNTERS)}")
    counters.rebuild(Session(bind=op.get_bind()))
    if postgresql:
        op.execute(f"ANALYZE {', '.join(COUNTERS)}")


def downgrade() -> None:
    op.drop_index("ix_report_events_breached_again", "report_events")
    for table in ("report_day_counts", "report_month_counts"):
        op.execute(f"DELETE FROM {table} WHERE metric = 'breach'")
