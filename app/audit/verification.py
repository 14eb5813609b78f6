"""Checking the audit log: every chain, every HMAC, and every chain against the last checkpoint.

A whole check reads every row once, in chain order (the (chain, seq) index). It runs in the CLI
(`audit verify`, `audit checkpoint`) and in the timer worker, never in a page request; its result is
stored (`AuditVerification`) and the auditors' pages show the last one with its time. One chain —
an incident's history — is cheap enough to check while its page is drawn (`check_chain`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import checkpoints
from app.audit.chain import GENESIS, HASHED_FIELDS, incident_of, mac
from app.audit.checkpoints import Seal
from app.audit.problem import Problem
from app.messages import N_, Message
from app.models import AuditEvent, AuditVerification

KEPT_PROBLEMS = 50  # a rewritten table breaks every chain: the first ones say enough

_COLUMNS = [getattr(AuditEvent, name) for name in HASHED_FIELDS] + [AuditEvent.id, AuditEvent.hash]


@dataclass(frozen=True)
class Verification:
    rows: int
    chains: int
    problems: tuple[Problem, ...] = ()
    problem_count: int = 0  # all of them; `problems` keeps the first KEPT_PROBLEMS
    checkpoint: int | None = None  # the last checkpoint the chains were compared with
    checkpoint_at: datetime | None = None
    heads: dict[str, tuple[int, str]] = field(default_factory=dict, compare=False)  # of chains that verify

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def verify(session: Session, key: bytes, checkpoint_dir: Path | None = None) -> Verification:
    """Check every chain (and, with a checkpoint folder, the checkpoints and every chain against them)."""
    book = checkpoints.read(checkpoint_dir, key) if checkpoint_dir else checkpoints.Book()
    problems: list[Problem] = list(book.problems)
    walk = _Walk(key, book.sealed, problems)
    for row in _rows(session):
        walk.add(row)
    walk.finish()
    for chain, seal in book.sealed.items():
        if chain not in walk.seen:
            message = N_("the whole chain is missing (checkpoint %(number)s sealed %(count)s rows)")
            problems.append(Problem(Message(message, {"number": seal.number, "count": seal.seq}), chain))
    last = book.last
    return Verification(
        rows=walk.rows,
        chains=len(walk.seen),
        problems=tuple(problems[:KEPT_PROBLEMS]),
        problem_count=len(problems),
        checkpoint=last.number if last else None,
        checkpoint_at=last.at if last else None,
        heads=walk.heads,
    )


def check_chain(session: Session, key: bytes, chain: str) -> Problem | None:
    """The first problem of one chain (its HMACs and links; tail deletion needs the whole check)."""
    problems: list[Problem] = []
    walk = _Walk(key, {}, problems)
    for row in _rows(session, chain):
        walk.add(row)
    walk.finish()
    return problems[0] if problems else None


class _Walk:
    """Rows in (chain, seq) order in; the first problem of each chain out."""

    def __init__(self, key: bytes, sealed: dict[str, Seal], problems: list[Problem]):
        self.key, self.sealed, self.problems = key, sealed, problems
        self.rows, self.seen, self.heads = 0, set[str](), {}
        self.chain: str | None = None
        self.seq, self.previous, self.last_id, self.broken = 0, GENESIS, 0, False

    def add(self, row: tuple[Any, ...]) -> None:
        *values, row_id, stored = row
        chain, seq, prev_hash, incident_id = values[:4]
        self.rows += 1
        if chain != self.chain:
            self.finish()
            self.chain, self.seq, self.previous, self.last_id, self.broken = chain, 0, GENESIS, 0, False
            self.seen.add(chain)
        if self.broken:
            return
        problem = None
        seal = self.sealed.get(chain)
        if seq != self.seq + 1:
            problem = Message(N_("the row before it in its chain (position %(seq)s) is missing"), {"seq": self.seq + 1})
        elif prev_hash != self.previous:
            problem = Message(N_("its link to the previous row does not match"))
        elif mac(self.key, values) != stored:
            problem = Message(N_("its content does not match its hash"))
        elif incident_id != incident_of(chain) or row_id <= self.last_id:
            problem = Message(N_("it is not where its chain says it is"))
        elif seal is not None and seq == seal.seq and stored != seal.hash:
            problem = Message(N_("it differs from what checkpoint %(number)s sealed"), {"number": seal.number})
        if problem is not None:
            self.problems.append(Problem(problem, chain, seq, row_id))
            self.broken = True
            return
        self.seq, self.previous, self.last_id = seq, stored, row_id

    def finish(self) -> None:
        if self.chain is None or self.broken:
            return
        seal = self.sealed.get(self.chain)
        if seal is not None and self.seq < seal.seq:
            text = N_("its last rows are missing: checkpoint %(number)s sealed %(count)s, %(left)s are left")
            message = Message(text, {"number": seal.number, "count": seal.seq, "left": self.seq})
            self.problems.append(Problem(message, self.chain, self.seq + 1))
            self.broken = True
            return
        self.heads[self.chain] = (self.seq, self.previous)


def _rows(session: Session, chain: str | None = None) -> Iterator[tuple[Any, ...]]:
    """Plain tuples, streamed (no ORM objects: a whole check reads every row)."""
    query = select(*_COLUMNS).order_by(AuditEvent.chain, AuditEvent.seq)
    if chain is not None:
        query = query.where(AuditEvent.chain == chain)
    yield from session.connection().execute(query.execution_options(yield_per=5000))


# ------------------------------------------------------------------------------------- stored results


def store(session: Session, result: Verification, started_at: datetime, finished_at: datetime) -> None:
    session.add(
        AuditVerification(
            started_at=started_at,
            finished_at=finished_at,
            ok=result.ok,
            rows=result.rows,
            chains=result.chains,
            checkpoint=result.checkpoint,
            checkpoint_at=result.checkpoint_at,
            problem_count=result.problem_count,
            problems=json.dumps([problem.as_json() for problem in result.problems], ensure_ascii=False),
        )
    )


def last_stored(session: Session) -> AuditVerification | None:
    return session.scalar(select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1))


def problems_of(stored: AuditVerification) -> list[Problem]:
    return [Problem.from_json(item) for item in json.loads(stored.problems)]


def describe(result: Verification | Iterable[Problem]) -> list[str]:
    """One line per problem, for the command line."""
    problems = result.problems if isinstance(result, Verification) else result
    return [_line(problem) for problem in problems]


def _line(problem: Problem) -> str:
    where = "checkpoint file" if problem.chain is None else f"chain {problem.chain}"
    if problem.seq is not None:
        where += f" position {problem.seq}"
    if problem.event_id is not None:
        where += f" (row {problem.event_id})"
    return f"{where}: {problem.reason}"
