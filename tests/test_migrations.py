"""The migrations create exactly the schema the models describe."""

import json
import os
import re

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, text

from app.db import Base
from app.engine import operations
from app.engine.runtime import Run
from app.forms import read_form_files
from app.i18n_catalogs import ROOT
from app.incidents import state
from app.migrate import alembic_config
from app.models import utcnow
from app.process import validation, versions
from tests import databases
from tests.conftest import BACKENDS

STOCK = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))


# The search index itself is database-specific and not a model (docs/search.md): the FTS5 table and
# its shadow tables on SQLite, the GIN trigram index on PostgreSQL, and the similar incidents' indexes there
# (the distinct texts' trigram indexes, the documents' md5).
SEARCH_INDEX = ("search_fts", "ix_search_documents_body_trgm", "ix_similar_texts_body_", "ix_search_documents_similar")


def _not_search_index(obj, name, type_, reflected, compare_to) -> bool:
    return not (name or "").startswith(SEARCH_INDEX)


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _not_search_index})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_search_index_is_there(db):
    with db.engine.connect() as connection:
        if db.is_postgresql:
            found = connection.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                                      {"n": SEARCH_INDEX[1]})  # fmt: skip
            assert "gin_trgm_ops" in found
            names = "indexname LIKE 'ix_similar_texts_body_%' OR indexname LIKE 'ix_search_documents_similar%'"
            similar = dict(connection.execute(text(f"SELECT indexname, indexdef FROM pg_indexes WHERE {names}")).all())
            assert "gin_trgm_ops" in similar["ix_similar_texts_body_trgm"]
            assert "gist_trgm_ops" in similar["ix_similar_texts_body_nearest"]
            md5 = similar["ix_search_documents_similar_md5"]
            assert "md5(body)" in md5 and "title" in md5
            assert "ix_search_documents_similar" not in similar  # the walk over every document (0024), gone
        else:
            found = connection.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'search_fts'"))
            assert "trigram" in found


def test_engine_states_move_out_of_the_incidents_without_their_spec_and_back(tmp_path):
    """0005 moves each stored instance into incident_states minus the embedded spec; every task and
    its data come back the same, and the downgrade writes what the stock serializer would."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "0004")
    bpmn = versions.BUNDLED_DIAGRAM.read_text(encoding="utf-8")
    model = validation.load(bpmn, read_form_files())
    forms = versions.referenced_forms(model, read_form_files())
    run = Run.start(model, operations.Context(utcnow()), {"incident": {"title": "旧事件"}})
    old_text = STOCK.serialize_json(run.workflow)  # the format 0004 stored, spec and all
    now = utcnow()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO process_versions (id, process_id, version, bpmn_xml, forms_json, content_hash, comment,"
                " published_by, published_at) VALUES (1, :pid, 1, :xml, :forms, 'x', '', 'test', :now)"
            ),
            {"pid": model.process_id, "xml": bpmn, "forms": json.dumps(forms), "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO incidents (id, process_version_id, workflow, serializer_version, lock_version, status,"
                " title, emergency, warned, breached, current_lanes, current_assignees, created_at, updated_at,"
                " reopen_count) VALUES (1, 1, :workflow, '1.5', 1, 'new', '旧事件', false, false, false, '', '',"
                " :now, :now, 0)"
            ),
            {"workflow": old_text, "now": now},
        )

    command.upgrade(config, "0005")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT serializer_version, state FROM incident_states")).one()
    moved = state.decode(stored.state)
    assert stored.serializer_version == "1.5" and "spec" not in json.loads(moved)
    assert len(moved) < len(old_text) / 2
    again = Run.load(model, moved, operations.Context(utcnow()))
    assert [task.spec_id for task in again.ready_tasks()] == ["register_incident"]
    assert again.dump() == moved  # restored exactly: nothing of the tasks or their data was lost

    command.downgrade(config, "0004")
    with engine.connect() as connection:
        restored = connection.execute(text("SELECT workflow FROM incidents")).scalar_one()
    engine.dispose()
    assert json.loads(restored) == json.loads(old_text)
    assert [task.task_spec.name for task in STOCK.deserialize_json(restored).get_tasks(state=TaskState.READY)] == [
        "register_incident"
    ]


@pytest.fixture(params=BACKENDS)
def blank_url(request, tmp_path) -> str:
    """An empty database to migrate step by step (not the tests' shared, migrated one)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    return databases.blank_postgresql(os.environ["TEST_DATABASE_URL"], "migrations")


def _version_1(connection, now: str) -> None:
    """A published process version (id 1) for the incidents an old schema's test writes."""
    connection.execute(
        text(
            "INSERT INTO process_versions (id, process_id, version, bpmn_xml, forms_json, content_hash, comment,"
            " published_by, published_at) VALUES (1, 'p', 1, '', '{}', 'x', '', 'test', :now)"
        ),
        {"now": now},
    )


def test_unticked_recovery_checks_of_ended_incidents_are_closed_by_0021(blank_url):
    """0021: a check left open on an incident that had already ended is closed at the incident's end;
    ticked checks, and checks of active incidents, stay as they were."""
    url = blank_url
    config = alembic_config(url)
    command.upgrade(config, "0020")
    ended, now = "2026-03-02 03:00:00.000000", "2026-03-02 01:00:00.000000"
    engine = create_engine(url)
    with engine.begin() as connection:
        _version_1(connection, now)
        for incident_id, status in ((1, "closed"), (2, "open"), (3, "closed")):
            connection.execute(
                text(
                    "INSERT INTO incidents (id, process_version_id, lock_version, status, title, emergency, warned,"
                    " breached, current_lanes, current_assignees, created_at, updated_at, closed_at, reopen_count,"
                    " core_impact_unconfirmed) VALUES (:id, 1, 1, :status, 't', false, false, false, '', '', :now,"
                    " :now, :closed, 0, false)"
                ),
                {"id": incident_id, "status": status, "now": now, "closed": ended if status == "closed" else None},
            )
            connection.execute(
                text(
                    "INSERT INTO alarms (id, received_at, received_by, format, source, fingerprint, status, summary,"
                    " labels, outcome, incident_id) VALUES (:id, :now, 'm', 'generic', 'z', 'f', 'resolved', 's',"
                    " '{}', 'resolved', :id)"
                ),
                {"id": incident_id, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO recovery_checks (id, incident_id, alarm_id, candidate_role, created_at, confirmed_at)"
                    " VALUES (:id, :id, :id, 'first_line', :now, :confirmed)"
                ),
                {"id": incident_id, "now": now, "confirmed": now if incident_id == 3 else None},
            )

    command.upgrade(config, "0021")
    with engine.connect() as connection:
        closed = dict(connection.execute(text("SELECT id, closed_at FROM recovery_checks")).all())
    engine.dispose()
    read_back = {
        key: value if value is None or isinstance(value, str) else f"{value:%Y-%m-%d %H:%M:%S.%f}"
        for key, value in closed.items()
    }  # SQLite gives the stored text, PostgreSQL a datetime
    assert read_back == {1: ended, 2: None, 3: None}


def _open_incidents(connection, now: str, *, breached: bool, reopen_count: int) -> None:
    """Incidents 1 and 2, open, of process version 1 (`_version_1`), as the columns stood at 0036–0038."""
    for incident_id in (1, 2):
        connection.execute(
            text(
                "INSERT INTO incidents (id, process_version_id, lock_version, status, title, emergency, warned,"
                " breached, current_lanes, current_assignees, created_at, updated_at, reopen_count,"
                " core_impact_unconfirmed) VALUES (:id, 1, 1, 'open', 't', false, false, :breached, '', '', :now,"
                " :now, :reopens, false)"
            ),
            {"id": incident_id, "now": now, "breached": breached, "reopens": reopen_count},
        )


def test_0037_keeps_who_resolved_each_incident_last(blank_url):
    """0037: the handler of an incident's last resolution, from its audit rows (none if it never was)."""
    config = alembic_config(blank_url)
    command.upgrade(config, "0036")
    now = "2026-03-02 01:00:00.000000"
    engine = create_engine(blank_url)
    with engine.begin() as connection:
        _version_1(connection, now)
        _open_incidents(connection, now, breached=False, reopen_count=1)
        # incident 1 resolved by account 7, reopened, resolved by account 9; incident 2 only started by 7
        rows = [(1, "started", 7), (1, "resolved", 7), (1, "reopened", None), (1, "resolved", 9), (1, "reopened", 7),
                (2, "started", 7)]  # fmt: skip
        for seq, (incident_id, kind, actor_id) in enumerate(rows, 1):
            connection.execute(
                text(
                    "INSERT INTO audit_events (chain, seq, incident_id, at, actor_id, actor_name, actor_role, kind,"
                    " data, prev_hash, hash) VALUES (:chain, :seq, :incident, :now, :actor, 'a', 'r', :kind, '{}',"
                    " 'p', 'h')"
                ),
                {
                    "chain": f"incident:{incident_id}",
                    "seq": seq,
                    "incident": incident_id,
                    "now": now,
                    "actor": actor_id,
                    "kind": kind,
                },
            )
    command.upgrade(config, "0037")
    with engine.connect() as connection:
        resolvers = dict(connection.execute(text("SELECT id, resolver_id FROM incidents")).all())
    engine.dispose()
    assert resolvers == {1: 9, 2: None}


def test_0039_marks_each_breach_of_an_incident_that_breached_before(blank_url):
    """0039: a breach says whether its incident had one before (in chain order); other events say no."""
    config = alembic_config(blank_url)
    command.upgrade(config, "0038")
    now = "2026-03-02 01:00:00.000000"
    engine = create_engine(blank_url)
    with engine.begin() as connection:
        _version_1(connection, now)
        _open_incidents(connection, now, breached=True, reopen_count=0)
        # incident 1: breached, reopened, breached twice more; incident 2: breached once
        events = [(10, 1, "deadline_breach"), (11, 1, "reopened"), (12, 1, "deadline_breach"),
                  (13, 2, "deadline_breach"), (14, 1, "deadline_breach")]  # fmt: skip
        for audit_id, incident_id, kind in events:
            connection.execute(
                text(
                    "INSERT INTO report_events (audit_id, incident_id, kind, at) VALUES (:audit, :incident, :kind, :t)"
                ),
                {"audit": audit_id, "incident": incident_id, "kind": kind, "t": now},
            )
    command.upgrade(config, "0039")
    with engine.connect() as connection:
        flags = dict(connection.execute(text("SELECT audit_id, breached_before FROM report_events")).all())
    engine.dispose()
    assert flags == {10: False, 11: False, 12: True, 13: False, 14: True}


REVISION = re.compile(r"""^revision = ["'](\w+)["']""", re.M)


def test_each_migration_has_its_own_number_and_one_head():
    """Two branches landing the same number both pass their own tests; alembic then keeps one of them silently."""
    scripts = sorted((ROOT / "migrations" / "versions").glob("[0-9]*.py"))
    revisions = [REVISION.search(path.read_text(encoding="utf-8")).group(1) for path in scripts]
    assert revisions == [path.name.split("_", 1)[0] for path in scripts]
    assert len(set(revisions)) == len(revisions), revisions
    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads() == [revisions[-1]]
