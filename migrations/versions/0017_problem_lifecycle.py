"""Problem tickets get a lifecycle: an owner, the known error's workaround, when they changed and
closed; and links to every incident of a repeat group (docs/problems.md).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("problem_tickets") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("workaround", sa.Text(), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_problem_tickets_owner_id_users", "users", ["owner_id"], ["id"])
    op.create_table(
        "problem_links",
        sa.Column("problem_ticket_id", sa.Integer(), sa.ForeignKey("problem_tickets.id"), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
    )
    op.create_index("ix_problem_links_incident_id", "problem_links", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_problem_links_incident_id", table_name="problem_links")
    op.drop_table("problem_links")
    with op.batch_alter_table("problem_tickets") as batch:
        batch.drop_constraint("fk_problem_tickets_owner_id_users", type_="foreignkey")
        for column in ("closed_at", "updated_at", "workaround", "owner_id"):
            batch.drop_column(column)
