"""The engine state moves out of `incidents` into `incident_states`, without the process spec and
compressed (app/incidents/state.py): lists never load it, an action reads and writes a few KB.

Existing states keep every byte of the serializer's text except the embedded `spec` and
`subprocess_specs`, which the version already stores; the downgrade puts them back from the version.

Revision ID: 0005
Revises: 0004
"""

import json
import zlib

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 200  # rows converted at a time, so a large table is never held in memory at once


def upgrade() -> None:
    op.create_table(
        "incident_states",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("serializer_version", sa.String(length=20), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        # Already compressed: PostgreSQL need not try again (EXTERNAL = out of line, uncompressed).
        op.execute("ALTER TABLE incident_states ALTER COLUMN state SET STORAGE EXTERNAL")
    states = sa.table(
        "incident_states",
        sa.column("incident_id", sa.Integer),
        sa.column("serializer_version", sa.String),
        sa.column("state", sa.LargeBinary),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, serializer_version, workflow FROM incidents WHERE id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            break
        converted = [
            {"incident_id": row.id, "serializer_version": row.serializer_version, "state": _without_spec(row.workflow)}
            for row in rows
            if row.workflow
        ]
        if converted:
            connection.execute(states.insert(), converted)
        last = rows[-1].id
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("workflow")
        batch.drop_column("serializer_version")


def _without_spec(text: str) -> bytes:
    # json keeps key order both ways, so every task's data delta is written back exactly as it was.
    document = json.loads(text)
    document.pop("spec", None)
    document.pop("subprocess_specs", None)
    return zlib.compress(json.dumps(document).encode(), 1)


def downgrade() -> None:
    from app.process.validation import load
    from app.engine.runtime import SERIALIZER

    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("workflow", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("serializer_version", sa.String(length=20), nullable=False, server_default=""))
    connection = op.get_bind()
    specs: dict[int, tuple[dict, dict]] = {}
    rows = connection.execute(
        sa.text(
            "SELECT s.incident_id, s.serializer_version, s.state, i.process_version_id, v.bpmn_xml, v.forms_json "
            "FROM incident_states s JOIN incidents i ON i.id = s.incident_id "
            "JOIN process_versions v ON v.id = i.process_version_id"
        )
    ).all()
    for row in rows:
        if row.process_version_id not in specs:
            model = load(row.bpmn_xml, json.loads(row.forms_json))
            specs[row.process_version_id] = (
                SERIALIZER.to_dict(model.spec),
                {name: SERIALIZER.to_dict(spec) for name, spec in model.subprocess_specs.items()},
            )
        spec, subprocess_specs = specs[row.process_version_id]
        document = {}
        for key, value in json.loads(zlib.decompress(row.state)).items():
            if key == "subprocesses":  # where the stock serializer writes the specs
                document["spec"], document["subprocess_specs"] = spec, subprocess_specs
            document[key] = value
        connection.execute(
            sa.text("UPDATE incidents SET workflow = :workflow, serializer_version = :version WHERE id = :id"),
            {"workflow": json.dumps(document), "version": row.serializer_version, "id": row.incident_id},
        )
    with op.batch_alter_table("incidents") as batch:
        batch.alter_column("workflow", server_default=None)
        batch.alter_column("serializer_version", server_default=None)
    op.drop_table("incident_states")
