"""The audit log: keyed chains per incident, checkpoints outside the database, and every way of
tampering issue 10 found (on SQLite and on PostgreSQL, where the tamperer is the table's owner or a
superuser who switches the triggers off) reported by the whole check."""

from __future__ import annotations

import hashlib
import json
import threading
import time

import pytest
from sqlalchemy import select, text

from app import audit
from app.audit import Actor, checkpoints
from app.audit.chain import GENESIS, HASHED_FIELDS, canonical_json, mac
from app.audit.verification import check_chain, verify
from app.models import AuditEvent, utcnow
from tests.conftest import AUDIT_KEY
from tests.driver import pass_on, registration
from tests.replays import replayed

KEY = AUDIT_KEY.encode()


def whole_check(db, folder=None):
    with db.read() as session:
        return verify(session, KEY, folder)


def seal(db, folder):
    result = whole_check(db, folder)
    return checkpoints.write(folder, KEY, result, utcnow())


def tamper(db, sql: str, **params) -> None:
    """Change the audit table behind the app's back: on PostgreSQL as a superuser with every trigger off."""
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(sql), params)


def chain_rows(db, chain: str) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)))


@pytest.fixture
def two(desk, clock):
    """Two incidents, one handed on to the first line (so it has more rows)."""
    return replayed(desk.db, clock, lambda: _two(desk))


def _two(desk) -> tuple[int, int]:
    first = desk.register(registration(complaints=20))
    desk.complete("service_desk", first, "initial_support", pass_on("first_line"))
    second = desk.register(registration(complaints=3))
    return first, second


def test_each_incident_is_one_chain_from_its_first_row(desk, db, two):
    first, second = two
    events = chain_rows(db, f"incident:{first}")
    assert [e.kind for e in events] == [
        "started", "task_completed", "classified", "dispatched", "task_completed", "dispatched",
    ]  # fmt: skip
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6] and events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    assert {e.incident_id for e in events} == {first}
    completed = events[4]
    assert (completed.actor_name, completed.actor_role, completed.task_name) == (
        "service_desk user", "service_desk", "初始支持",
    )  # fmt: skip
    assert audit.data_of(completed)["changes"]["handling"]["after"]["next_stage"] == "first_line"
    # the hash is an HMAC under the key: without the key the same content gives another value
    values = [getattr(completed, name) for name in HASHED_FIELDS]
    assert mac(KEY, values) == completed.hash and mac(b"another key", values) != completed.hash
    assert chain_rows(db, f"incident:{second}")[0].seq == 1  # the second incident starts its own chain
    assert [e.kind for e in chain_rows(db, "process")] == ["version_published"]
    result = whole_check(db)
    assert result.ok and result.chains == 3
    with db.read() as session:
        assert result.rows == session.scalar(select(text("count(*)")).select_from(AuditEvent))


def test_a_clean_log_verifies_against_its_checkpoints(desk, db, two, tmp_path):
    first, _ = two
    one = seal(db, tmp_path)
    desk.complete("first_line", first, "first_line_handling", pass_on("second_line", "development"))
    two_ = seal(db, tmp_path)
    assert (one.number, two_.number) == (1, 2) and two_.sealed_chains == 1  # only the chain that grew
    result = whole_check(db, tmp_path)
    assert result.ok and result.checkpoint == 2
    lines = [json.loads(line) for line in (tmp_path / checkpoints.FILE_NAME).read_text().splitlines()]
    assert lines[1]["prev"] == lines[0]["mac"] and list(lines[1]["heads"]) == [f"incident:{first}"]


def test_an_edited_row_is_named(desk, db, two):
    first, _ = two
    target = chain_rows(db, f"incident:{first}")[5]  # handed on to the first line
    tamper(db, "UPDATE audit_events SET data = replace(data, 'first_line', 'second_line') WHERE id = :id", id=target.id)
    result = whole_check(db)
    assert not result.ok and result.problem_count == 1
    assert (result.first.chain, result.first.seq, result.first.event_id) == (f"incident:{first}", 6, target.id)
    assert result.first.reason == "its content does not match its hash"


def test_a_deleted_row_in_the_middle_is_named(desk, db, two):
    first, _ = two
    target = chain_rows(db, f"incident:{first}")[2]
    tamper(db, "DELETE FROM audit_events WHERE id = :id", id=target.id)
    result = whole_check(db)
    assert not result.ok and (result.first.seq, result.first.event_id) == (4, target.id + 1)
    assert result.first.reason == "the row before it in its chain (position 3) is missing"


def test_tail_deletion_and_head_rollback_are_caught_by_the_checkpoint(desk, db, two, tmp_path):
    first, _ = two
    seal(db, tmp_path)
    tamper(db, "DELETE FROM audit_events WHERE chain = :chain AND seq > 4", chain=f"incident:{first}")
    # the chain itself is consistent now: nothing in the database says rows are gone …
    with db.read() as session:
        assert check_chain(session, KEY, f"incident:{first}") is None
    # … but the checkpoint outside it does
    result = whole_check(db, tmp_path)
    assert not result.ok and (result.first.chain, result.first.seq) == (f"incident:{first}", 5)
    assert result.first.reason == "its last rows are missing: checkpoint 1 sealed 6, 4 are left"
    # and a later checkpoint does not seal the shortened chain: the break stays visible
    seal(db, tmp_path)
    assert not whole_check(db, tmp_path).ok


def test_a_deleted_and_rewritten_tail_is_caught_by_the_checkpoint(desk, db, two, tmp_path):
    """Rows 5 and 6 replaced by one plausible row 5 whose MAC the tamperer cannot make."""
    first, _ = two
    seal(db, tmp_path)
    rows = chain_rows(db, f"incident:{first}")
    tamper(db, "DELETE FROM audit_events WHERE chain = :chain AND seq > 4", chain=f"incident:{first}")
    forged = _forged_row(rows[4], prev_hash=rows[3].hash)
    tamper(db, _INSERT, **forged)
    result = whole_check(db, tmp_path)
    assert not result.ok and result.first.seq == 5
    assert result.first.reason == "its content does not match its hash"


def test_a_forged_row_appended_without_the_key_is_named(desk, db, two):
    first, _ = two
    last = chain_rows(db, f"incident:{first}")[-1]
    forged = _forged_row(last, prev_hash=last.hash, seq=last.seq + 1, kind="task_completed")
    tamper(db, _INSERT, **forged)
    result = whole_check(db)
    assert not result.ok and (result.first.seq, result.first.event_id) == (last.seq + 1, forged["id"])


def test_a_whole_table_rewritten_with_recomputed_hashes_is_caught(desk, db, two, tmp_path):
    """The attack that passed before: every row re-hashed and re-linked, now without the key."""
    seal(db, tmp_path)
    rows = [dict(row._mapping) for row in _all_rows(db)]
    tamper(db, "DELETE FROM audit_events")
    previous: dict[str, str] = {}
    for row in rows:
        row["actor_name"] = "someone else"
        row["prev_hash"] = previous.get(row["chain"], GENESIS)
        listed = [row[name] for name in HASHED_FIELDS]
        listed[4] = listed[4].isoformat()
        row["hash"] = previous[row["chain"]] = hashlib.sha256(canonical_json(listed).encode()).hexdigest()
        tamper(db, _INSERT, **row)
    result = whole_check(db, tmp_path)
    assert not result.ok and result.problem_count == 3  # every chain
    assert {problem.seq for problem in result.problems} == {1}


def test_a_whole_chain_deleted_is_caught_by_the_checkpoint(desk, db, two, tmp_path):
    _, second = two
    seal(db, tmp_path)
    tamper(db, "DELETE FROM audit_events WHERE incident_id = :id", id=second)
    result = whole_check(db, tmp_path)
    assert not result.ok and result.first.chain == f"incident:{second}"
    assert result.first.reason.startswith("the whole chain is missing (checkpoint 1 sealed")


def test_truncate_is_refused_on_postgresql_and_caught_by_the_checkpoint_if_forced(desk, db, two, tmp_path):
    seal(db, tmp_path)
    if db.is_postgresql:
        with pytest.raises(Exception, match="append-only: TRUNCATE"), db.engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_events"))
        assert whole_check(db, tmp_path).ok
    tamper(db, "DELETE FROM audit_events" if not db.is_postgresql else "TRUNCATE audit_events")
    result = whole_check(db, tmp_path)
    assert result.rows == 0 and result.problem_count == 3


@pytest.mark.parametrize("damage", ["edited", "removed", "unsigned"])
def test_a_tampered_checkpoint_file_is_named(desk, db, two, tmp_path, damage):
    first, _ = two
    seal(db, tmp_path)
    desk.complete("first_line", first, "first_line_handling", pass_on("second_line", "development"))
    seal(db, tmp_path)
    seal(db, tmp_path)
    path = tmp_path / checkpoints.FILE_NAME
    lines = path.read_text().splitlines()
    if damage == "edited":  # roll the sealed head back to an earlier row
        document = json.loads(lines[1])
        document["heads"][f"incident:{first}"] = [6, "0" * 64]
        lines[1] = json.dumps(document)
    elif damage == "removed":
        del lines[1]
    else:  # signed with another key
        document = json.loads(lines[2])
        del document["mac"]
        document["mac"] = "f" * 64
        lines[2] = json.dumps(document)
    path.write_text("\n".join(lines) + "\n")
    result = whole_check(db, tmp_path)
    expected = {"edited": "checkpoint 2 is not signed with the audit key",
                "removed": "checkpoint 3 does not follow the one before it (a checkpoint is missing)",
                "unsigned": "checkpoint 3 is not signed with the audit key"}[damage]  # fmt: skip
    assert not result.ok and result.first.chain is None and result.first.reason == expected


def test_concurrent_appends_never_fork_a_chain(db):
    actor = Actor(None, "load", frozenset({"system"}))

    def append_many():
        for _ in range(15):
            with db.transaction() as session:
                audit.append(session, kind="probe", actor=actor, at=utcnow(), data={"n": 1})

    threads = [threading.Thread(target=append_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = whole_check(db)
    assert result.ok and result.rows == 60 and [row.seq for row in chain_rows(db, "system")] == list(range(1, 61))


def test_a_writer_on_one_incident_never_waits_for_another(desk, db, two):
    """PostgreSQL: a transaction holding incident A's chain open does not hold up an append to B."""
    if not db.is_postgresql:
        pytest.skip("SQLite has one writer at a time by design; the per-chain lock is PostgreSQL's")
    first, second = two
    actor = Actor(None, "load", frozenset({"system"}))
    holding, release = threading.Event(), threading.Event()

    def hold_first():
        with db.transaction() as session:
            audit.append(session, kind="probe", actor=actor, at=utcnow(), data={}, incident_id=first)
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_first)
    holder.start()
    assert holding.wait(10)
    began = time.monotonic()
    with db.transaction() as session:
        audit.append(session, kind="probe", actor=actor, at=utcnow(), data={}, incident_id=second)
    waited = time.monotonic() - began
    release.set()
    holder.join()
    assert waited < 2 and whole_check(db).ok


def test_an_actions_rows_past_the_ids_it_reserved_still_rise_along_its_chain(desk, db, two):
    """PostgreSQL: an action takes a few ids with its chain's head (the rows then go with its batch of
    writes); its rows past those get theirs from the database after another chain's writer took some:
    ids still rise along each chain, those reserved and not used are a gap, and the whole log verifies."""
    if not db.is_postgresql:
        pytest.skip("the ids are reserved with PostgreSQL's chain lock; SQLite inserts them with the rows")
    first, second = two
    actor, chain = Actor(None, "load", frozenset({"system"})), audit.incident_chain(first)
    head = audit.LOCKED_HEAD
    entries = [audit.Entry(kind="probe", actor=actor, at=utcnow(), data={"n": n}, incident_id=first)
               for n in range(audit.RESERVED_IDS + 2)]  # fmt: skip
    with db.transaction() as session:
        held = session.execute(select(head.c.seq, head.c.hash, head.c.ids), audit.locked_head_params(chain)).one()
        audit.hold_head(session, chain, *held)
        with db.transaction() as other:  # another incident's writer meanwhile
            audit.append(other, kind="probe", actor=actor, at=utcnow(), data={}, incident_id=second)
        audit.append_all(session, entries[:1])
        audit.append_all(session, entries[1:])
    rows = chain_rows(db, chain)[-len(entries) :]
    assert [audit.data_of(row)["n"] for row in rows] == list(range(len(entries)))
    assert [row.id for row in rows[: audit.RESERVED_IDS]] == sorted(held.ids)
    other_row = chain_rows(db, audit.incident_chain(second))[-1]
    assert held.ids[-1] < other_row.id < rows[audit.RESERVED_IDS].id < rows[-1].id
    assert whole_check(db).ok


# ----------------------------------------------------------------------------------------- helpers

_COLUMNS = ("id", "chain", "seq", "incident_id", "at", "actor_id", "actor_name", "actor_role", "kind", "task_id",
            "task_name", "data", "request_id", "prev_hash", "hash")  # fmt: skip
_INSERT = f"INSERT INTO audit_events ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"


def _all_rows(db):
    with db.engine.connect() as connection:
        return list(connection.execute(select(*(getattr(AuditEvent, c) for c in _COLUMNS)).order_by(AuditEvent.id)))


def _forged_row(model: AuditEvent, *, prev_hash: str, **changes) -> dict:
    """A plausible row like `model`, hashed the only way someone without the key can: SHA-256."""
    row = {name: getattr(model, name) for name in _COLUMNS}
    row.update(changes, prev_hash=prev_hash, id=model.id + 1000, actor_name="forger")
    listed = [row[name] for name in HASHED_FIELDS]
    listed[4] = listed[4].isoformat()
    row["hash"] = hashlib.sha256(canonical_json(listed).encode()).hexdigest()
    return row
