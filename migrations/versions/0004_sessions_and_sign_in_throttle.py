"""Server-side sessions and sign-in throttling instead of account lockout; contact and change reference
columns as long as the forms allow; an audit row's actor roles as long as every role together.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user_sessions") as batch:
        batch.create_index("ix_user_sessions_user_id", ["user_id"])
        batch.create_index("ix_user_sessions_last_seen_at", ["last_seen_at"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    with op.batch_alter_table("sign_in_throttle") as batch:
        batch.create_index("ix_sign_in_throttle_last_failure_at", ["last_failure_at"])
    with op.batch_alter_table("users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    with op.batch_alter_table("incidents") as batch:
        batch.alter_column("requester_name", type_=sa.String(length=200), existing_type=sa.String(length=100))
        batch.alter_column("change_reference", type_=sa.String(length=200), existing_type=sa.String(length=100))
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("actor_role", type_=sa.String(length=400), existing_type=sa.String(length=100))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("actor_role", type_=sa.String(length=100), existing_type=sa.String(length=400))
    with op.batch_alter_table("incidents") as batch:
        batch.alter_column("change_reference", type_=sa.String(length=100), existing_type=sa.String(length=200))
        batch.alter_column("requester_name", type_=sa.String(length=100), existing_type=sa.String(length=200))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.drop_table("sign_in_throttle")
    op.drop_table("user_sessions")
