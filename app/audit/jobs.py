"""The whole check of the audit log as a job: verify, seal a checkpoint, store the result.

The timer worker runs it every AUDIT_VERIFY_SECONDS (whichever worker finds the last stored result
old enough; two at the same moment only check twice); `flask --app wsgi audit checkpoint` runs it
at once. Pages never do: they read the stored result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from app.audit import audit_key, checkpoints
from app.audit.checkpoints import Checkpoint
from app.audit.verification import Verification, last_stored, store, verify
from app.db import Database
from app.models import utcnow

log = logging.getLogger(__name__)


def check_and_seal(db: Database, checkpoint_dir: Path | None) -> tuple[Verification, Checkpoint | None]:
    started = utcnow()
    with db.read() as session:
        key = audit_key(session)
        result = verify(session, key, checkpoint_dir)
    sealed = checkpoints.write(checkpoint_dir, key, result, utcnow()) if checkpoint_dir else None
    if sealed is not None:  # what the pages say: the chains are sealed by this checkpoint now
        result = replace(result, checkpoint=sealed.number, checkpoint_at=sealed.at)
    with db.transaction() as session:
        store(session, result, started, utcnow())
    if not result.ok:
        log.error("audit log does not verify: %d problem(s), first: %s", result.problem_count, result.first.reason)
    return result, sealed


@dataclass
class PeriodicCheck:
    """Called after every timer sweep; runs `check_and_seal` when the last stored check is old enough."""

    db: Database
    checkpoint_dir: Path | None
    every_seconds: float

    def __call__(self) -> None:
        with self.db.read() as session:
            last = last_stored(session)
        if last is None or utcnow() - last.started_at >= timedelta(seconds=self.every_seconds):
            check_and_seal(self.db, self.checkpoint_dir)
