"""Indexes that let the incident manager's console, the overview and the problem list stop at their page or
their capped count (issue 14, docs/web.md "Lists and pages"): open emergencies and open incidents whose core
business impact is unconfirmed in deadline order, open incidents marked breached (past a deadline that was
moved later) and those not marked by their warning time (close to their deadline), the newest announcements,
and the problem tickets open first and newest first. Each list read every open incident of its kind and
sorted them, and the overdue count read every open incident past its deadline (5,922 at 100,000 incidents).

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def open_with(flag: str, value: bool = True) -> dict:
    """As app.models.open_with (a migration does not import the models)."""
    return {
        "postgresql_where": sa.text(f"status = 'open' AND {flag} IS {str(value).lower()}"),
        "sqlite_where": sa.text(f"status = 'open' AND {flag} IS {int(value)}"),
    }


def upgrade() -> None:
    op.create_index("ix_incidents_open_emergency", "incidents", ["due_at", "id"], **open_with("emergency"))
    op.create_index(
        "ix_incidents_open_core_unconfirmed", "incidents", ["due_at", "id"], **open_with("core_impact_unconfirmed")
    )
    op.create_index("ix_incidents_open_breached", "incidents", ["due_at", "id"], **open_with("breached"))
    op.create_index(
        "ix_incidents_open_warned", "incidents", ["warn_at", "due_at", "id"], **open_with("breached", False)
    )
    op.create_index("ix_announcements_published", "announcements", ["published_at", "id"])
    op.create_index(
        "ix_problem_tickets_listing", "problem_tickets", [sa.text("(status = 'closed')"), sa.text("id DESC")]
    )


def downgrade() -> None:
    op.drop_index("ix_problem_tickets_listing", "problem_tickets")
    op.drop_index("ix_announcements_published", "announcements")
    for name in ("ix_incidents_open_warned", "ix_incidents_open_breached", "ix_incidents_open_core_unconfirmed",
                 "ix_incidents_open_emergency"):  # fmt: skip
        op.drop_index(name, "incidents")
