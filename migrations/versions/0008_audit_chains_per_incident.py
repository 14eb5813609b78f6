"""The audit log in keyed chains, one per incident: each existing row is re-chained into its chain
with an HMAC under the audit key (the key comes from the app's configuration, never from the
database); the global head row goes; verification results get a table. On PostgreSQL TRUNCATE is
refused too.

The old global SHA-256 chain is checked first: a log that does not verify is not re-signed (that
would launder the tampering) and the upgrade stops, naming the first broken row.

Revision ID: 0008
Revises: 0007
"""

import hashlib
import hmac
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import context, op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BATCH = 5000  # rows read and written at a time
CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
CONTENT = ("incident_id", "at", "actor_id", "actor_name", "actor_role", "kind", "task_id", "task_name", "data")
# Frozen copies of app/audit/chain.py as of this revision: a migration must not change with the app.
ACCOUNTS = ("signed_in", "signed_out", "sign_in_failed", "password_changed", "password_reset", "user_created",
            "user_updated")  # fmt: skip
PROCESS = ("version_published", "draft_created", "draft_diagram_saved", "draft_forms_saved", "draft_discarded")

APPEND_ONLY_TRIGGERS = (
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)


def _columns(new: bool) -> list[sa.Column]:
    chain = [sa.Column("chain", sa.String(40), nullable=False), sa.Column("seq", sa.Integer(), nullable=False)]
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        *(chain if new else []),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("task_name", sa.String(200), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        *([sa.Column("request_id", sa.String(64), nullable=True)] if new else []),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain", "seq", name="uq_audit_events_chain_seq") if new else sa.UniqueConstraint("hash"),
    ]


def _iso(value):
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment.isoformat()


def _old_hash(row) -> str:
    values = [row["id"], row["prev_hash"], *(row[name] for name in CONTENT)]
    values[3] = _iso(values[3])
    return hashlib.sha256(CANONICAL.encode(values).encode()).hexdigest()


def _new_hash(key: bytes, row) -> str:
    values = [row["chain"], row["seq"], row["prev_hash"], *(row[name] for name in CONTENT), row["request_id"]]
    values[4] = _iso(values[4])
    return hmac.digest(key, CANONICAL.encode(values).encode(), "sha256").hex()


def _chain(row) -> str:
    if row["incident_id"] is not None:
        return f"incident:{row['incident_id']}"
    return "accounts" if row["kind"] in ACCOUNTS else "process" if row["kind"] in PROCESS else "system"


def _batches(new: bool):
    """The rows of audit_events (of the old or new shape) in id order, BATCH at a time (never all in memory)."""
    columns = [column for column in _columns(new) if isinstance(column, sa.Column)]
    table = sa.table("audit_events", *(sa.column(column.name, column.type) for column in columns))
    last = 0
    while True:
        query = sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        rows = [dict(row._mapping) for row in op.get_bind().execute(query)]
        if not rows:
            return
        last = rows[-1]["id"]
        yield rows


def _rebuild(new: bool, convert) -> None:
    """Replace audit_events by a table of the new (or old) shape, each batch of rows passed through `convert`."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    table = op.create_table("audit_events_rebuilt", *_columns(new))
    for rows in _batches(not new):
        op.bulk_insert(table, [convert(row) for row in rows])
    op.drop_table("audit_events")
    op.rename_table("audit_events_rebuilt", "audit_events")
    if postgresql:
        op.execute("ALTER INDEX audit_events_rebuilt_pkey RENAME TO audit_events_pkey")
        op.execute("ALTER SEQUENCE audit_events_rebuilt_id_seq RENAME TO audit_events_id_seq")
        op.execute("SELECT setval('audit_events_id_seq', COALESCE((SELECT max(id) FROM audit_events), 0) + 1, false)")
        if not new:
            op.execute("ALTER TABLE audit_events RENAME CONSTRAINT audit_events_rebuilt_hash_key TO audit_events_hash_key")
    with op.batch_alter_table("audit_events") as batch:
        batch.create_index("ix_audit_events_incident_id", ["incident_id"])
        batch.create_index("ix_audit_events_kind", ["kind"])
        batch.create_index("ix_audit_events_kind_at", ["kind", "at"])
    if postgresql:
        for trigger in APPEND_ONLY_TRIGGERS if new else APPEND_ONLY_TRIGGERS[:1]:
            op.execute(trigger)


def upgrade() -> None:
    head = op.get_bind().execute(sa.text("SELECT last_id, last_hash FROM audit_head WHERE id = 1")).first()
    previous, count = GENESIS, 0
    for rows in _batches(new=False):  # first the whole old chain, before anything changes
        for row in rows:
            count += 1
            if row["id"] != count or row["prev_hash"] != previous or _old_hash(row) != row["hash"]:
                raise RuntimeError(
                    f"the audit log does not verify at row {count}: it is not re-signed; "
                    "find out what happened (flask audit verify on the previous release) before upgrading"
                )
            previous = row["hash"]
    if count and (head is None or (head.last_id, head.last_hash) != (count, previous)):
        raise RuntimeError(f"the audit log's last rows after row {count} are missing: it is not re-signed")
    key = context.config.attributes.get("audit_key")
    if count and not key:
        raise RuntimeError("re-signing the audit log needs its key: run `flask --app wsgi db upgrade`")
    heads: dict[str, tuple[int, str]] = {}

    def rechain(row: dict) -> dict:
        chain = _chain(row)
        seq, previous = heads.get(chain, (0, GENESIS))
        row.update(chain=chain, seq=seq + 1, prev_hash=previous, request_id=None)
        row["hash"] = _new_hash(key, row)
        heads[chain] = (row["seq"], row["hash"])
        return row

    _rebuild(new=True, convert=rechain)
    op.drop_table("audit_head")
    op.create_table(
        "audit_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("checkpoint", sa.Integer(), nullable=True),
        sa.Column("checkpoint_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Back to one global SHA-256 chain in id order (the HMACs are checked by `audit verify`, not here)."""
    op.drop_table("audit_verifications")
    last = {"id": 0, "hash": GENESIS}

    def unchain(row: dict) -> dict:
        for name in ("chain", "seq", "request_id"):
            del row[name]
        row["id"], row["prev_hash"] = last["id"] + 1, last["hash"]  # the old chain counts from 1 without gaps
        row["hash"] = _old_hash(row)
        last.update(id=row["id"], hash=row["hash"])
        return row

    _rebuild(new=False, convert=unchain)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if last["id"]:
        insert = sa.text("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, :id, :hash)")
        op.execute(insert.bindparams(id=last["id"], hash=last["hash"]))
