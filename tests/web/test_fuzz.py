"""A bounded fuzzing run in the suite (tests/fuzzing.py; bench/fuzz.py runs longer): every route and
method, then random requests as every role with hostile values, on SQLite and on PostgreSQL. No
request may fail on the server, and nothing may be left half-written."""

from __future__ import annotations

import os

import pytest

from tests.fuzzing import Fuzzer, check_integrity, populate

REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "1200"))
SEED = int(os.environ.get("FUZZ_SEED", "10"))


@pytest.mark.long
def test_no_request_fails_and_nothing_is_half_written(app, db, service):
    populate(service, db)
    fuzzer = Fuzzer(app, db, seed=SEED)
    findings = fuzzer.run(REQUESTS)
    assert not findings, f"{len(findings)} of {fuzzer.requests} requests failed (seed {SEED}):\n" + "\n".join(
        map(str, findings[:30])
    )
    assert check_integrity(db) == []
    assert fuzzer.requests >= REQUESTS * 0.95  # (a few values the test client itself cannot send are skipped)
