"""PostgreSQL: `audit_locked_head(space, key, chain)` takes a chain's advisory lock and reads its
last position and hash in one round trip (app/audit, issue 13).

The read must come after the lock: in READ COMMITTED a statement sees what was committed before it
began, so a head read in the same statement as the lock (a CTE, a join) would miss the row the lock's
previous holder committed while this one waited. A VOLATILE PL/pgSQL function takes a new snapshot
for each statement it runs, so its SELECT sees that row.

Revision ID: 0026
Revises: 0025
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_locked_head(lock_space integer, lock_key integer, chain_name varchar)
RETURNS TABLE (seq integer, hash varchar) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_space, lock_key);
    RETURN QUERY SELECT a.seq, a.hash FROM audit_events a WHERE a.chain = chain_name ORDER BY a.seq DESC LIMIT 1;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_locked_head(integer, integer, varchar)")
