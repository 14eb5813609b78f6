"""What the auditors' pages say about the audit log's integrity.

Two sources, neither of which re-hashes the whole log inside a request: the last whole check
stored by the timer worker or the CLI (app/audit/jobs.py), with its time and checkpoint; and, on an
incident's history, a check of that incident's own chain now (its rows only: cheap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from app.audit import audit_key
from app.audit.chain import chain_of
from app.audit.problem import Problem
from app.audit.verification import check_chain, last_stored, problems_of
from app.models import utcnow
from app.web import database
from app.web.i18n import translate

OK, BROKEN, UNCHECKED = "ok", "broken", "unchecked"
STALE_AFTER = 3  # intervals: a last check older than this means no worker is checking


@dataclass(frozen=True)
class Integrity:
    state: str  # of the last whole check: ok / broken / unchecked
    checked_at: datetime | None
    stale: bool  # the last whole check is older than it should be
    rows: int
    chains: int
    checkpoint: int | None
    checkpoint_at: datetime | None
    problem_count: int
    problem: Problem | None  # the first problem: this incident's when it has one, else the whole log's
    append_only_in_database: bool
    chain_checked: bool = False  # an incident's own chain was checked now
    chain_ok: bool = True

    @property
    def ok(self) -> bool:
        """What the reader looks at verifies: the whole log at its last check, and the incident's chain now."""
        return self.chain_ok and self.state != BROKEN and (self.state == OK or self.chain_checked)

    @property
    def reason(self) -> str | None:
        return None if self.problem is None else translate(self.problem.message)

    @property
    def raw_reason(self) -> str | None:
        return None if self.problem is None else self.problem.reason

    @property
    def broken_at(self) -> int | None:
        return None if self.problem is None else self.problem.event_id

    @property
    def broken_incident_id(self) -> int | None:
        return None if self.problem is None else self.problem.incident_id

    @property
    def broken_number(self) -> str | None:
        incident_id = self.broken_incident_id
        return None if incident_id is None else f"INC{incident_id:06d}"


def integrity(session: Session, incident_id: int | None = None) -> Integrity:
    """The last whole check; with `incident_id`, that incident's chain checked now as well."""
    stored = last_stored(session)
    problems = problems_of(stored) if stored is not None else []
    own = None
    if incident_id is not None:
        chain = chain_of(incident_id, "")
        own = check_chain(session, audit_key(session), chain) or next((p for p in problems if p.chain == chain), None)
    interval = timedelta(seconds=float(current_app.config["AUDIT_VERIFY_SECONDS"]))
    state = UNCHECKED if stored is None else OK if stored.ok else BROKEN
    return Integrity(
        state=state,
        checked_at=stored.finished_at if stored else None,
        stale=stored is not None and utcnow() - stored.finished_at > STALE_AFTER * interval,
        rows=stored.rows if stored else 0,
        chains=stored.chains if stored else 0,
        checkpoint=stored.checkpoint if stored else None,
        checkpoint_at=stored.checkpoint_at if stored else None,
        problem_count=stored.problem_count if stored else 0,
        problem=own or (problems[0] if problems else None),
        append_only_in_database=database().is_postgresql,
        chain_checked=incident_id is not None,
        chain_ok=own is None,
    )
