"""PostgreSQL: `audit_locked_head(space, key, chain, reserve)` takes a chain's advisory lock, reads its
last position and hash (as the three-argument form of migration 0026 does) and takes `reserve` ids
of `audit_events` after the lock, for the rows the holder will append to that chain (app/audit,
issue 13): with their ids known, those rows are written with the action's batch of writes instead of
an INSERT of their own whose RETURNING the rows that follow them wait for. One row always, also for
an empty chain (seq and hash null).

Ids taken after the chain's lock rise along the chain as before; the ids an action reserves and does
not use are never used (a gap, as a rolled-back insert leaves).

Revision ID: 0040
Revises: 0039
"""

from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_locked_head(lock_space integer, lock_key integer, chain_name varchar, reserve integer)
RETURNS TABLE (seq integer, hash varchar, ids integer[]) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_space, lock_key);
    RETURN QUERY
        SELECT h.seq, h.hash, ARRAY(SELECT nextval('audit_events_id_seq')::integer FROM generate_series(1, reserve))
        FROM (SELECT 1) AS one
        LEFT JOIN (SELECT a.seq, a.hash FROM audit_events a WHERE a.chain = chain_name ORDER BY a.seq DESC LIMIT 1) AS h
            ON true;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_locked_head(integer, integer, varchar, integer)")
