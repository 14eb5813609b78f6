"""A stored repeat group keeps how many problem tickets it had and the ids of its first five, and an
analysis the last ticket id it read (app/reports/stored_repeats.py): the reports page no longer numbers every ticketed incident of a
year's group to name five. Stored groups are a cache the timer worker computes again: they are
dropped here, and the pages ask for them again.

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM repeat_analysis_rows")
    op.execute("DELETE FROM repeat_analyses")
    with op.batch_alter_table("repeat_analysis_rows") as batch:
        batch.add_column(sa.Column("group_tickets", sa.Integer(), nullable=False))
        batch.add_column(sa.Column("group_first_tickets", sa.String(length=200), nullable=False))
    op.drop_index("ix_repeat_analysis_rows_ticketed", "repeat_analysis_rows")  # the kept ids replace it
    with op.batch_alter_table("repeat_analyses") as batch:
        batch.add_column(sa.Column("tickets_up_to", sa.Integer(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("repeat_analyses") as batch:
        batch.drop_column("tickets_up_to")
    where = sa.text("has_problem_ticket")
    op.create_index("ix_repeat_analysis_rows_ticketed", "repeat_analysis_rows", ["analysis_id", "group_no"],
                    postgresql_where=where, sqlite_where=where)  # fmt: skip
    with op.batch_alter_table("repeat_analysis_rows") as batch:
        batch.drop_column("group_first_tickets")
        batch.drop_column("group_tickets")
