"""Checkpoints: every chain's head, sealed outside the database.

A checkpoint is one line of JSON appended to `checkpoints.jsonl` in the configured folder
(`AUDIT_CHECKPOINT_DIR`): its number and time, the heads (position and hash) of the chains that
grew since the checkpoint before, that checkpoint's MAC (`prev`), and its own MAC under the audit
key. Folding the lines in order gives, for every chain, the last position and hash sealed. Someone
who controls the database but neither this file nor the key cannot delete a chain's tail, roll a
chain back, or replace it: `audit verify` compares every chain with the seals. A seal never moves
backwards, and a chain that does not verify is not sealed again, so a break stays visible.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from app.audit.chain import GENESIS, sign
from app.audit.problem import Problem
from app.messages import N_, Message

if TYPE_CHECKING:
    from app.audit.verification import Verification

FILE_NAME = "checkpoints.jsonl"


@dataclass(frozen=True)
class Seal:
    seq: int
    hash: str
    number: int  # the checkpoint that sealed it


@dataclass(frozen=True)
class Checkpoint:
    number: int
    at: datetime
    mac: str
    sealed_chains: int  # chains whose head this checkpoint moved


@dataclass
class Book:
    """What the checkpoint file says: every chain's seal, the last checkpoint, and what is wrong with the file."""

    sealed: dict[str, Seal] = field(default_factory=dict)
    last: Checkpoint | None = None
    problems: list[Problem] = field(default_factory=list)


def read(folder: Path, key: bytes) -> Book:
    path = folder / FILE_NAME
    if not path.exists():
        return Book()
    with _locked(path, "r", fcntl.LOCK_SH) as file:
        return _fold(file, key)


def write(folder: Path, key: bytes, verification: Verification, now: datetime) -> Checkpoint:
    """Seal the heads of the chains that verified and grew since the last seal; one writer at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    with _locked(path, "a+", fcntl.LOCK_EX) as file:
        file.seek(0)
        book = _fold(file, key)
        heads = {
            chain: [seq, head]
            for chain, (seq, head) in sorted(verification.heads.items())
            if chain not in book.sealed or seq > book.sealed[chain].seq
        }
        number = book.last.number + 1 if book.last else 1
        document: dict[str, Any] = {
            "number": number,
            "at": now.isoformat(),
            "prev": book.last.mac if book.last else GENESIS,
            "rows": verification.rows,
            "chains": verification.chains,
            "heads": heads,
        }
        document["mac"] = sign(key, document)
        file.write(json.dumps(document, ensure_ascii=False, sort_keys=True) + "\n")
        file.flush()
    return Checkpoint(number, now, document["mac"], len(heads))


@contextmanager
def _locked(path: Path, mode: str, lock: int) -> Iterator[IO[str]]:
    with path.open(mode, encoding="utf-8") as file:
        fcntl.flock(file, lock)
        try:
            yield file
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def _fold(file: IO[str], key: bytes) -> Book:
    book = Book()
    previous = GENESIS
    for line_number, line in enumerate(file, start=1):
        expected = book.last.number + 1 if book.last else 1
        try:
            document = json.loads(line)
            claimed = document.pop("mac")
            number, heads = document["number"], document["heads"]
            at = datetime.fromisoformat(document["at"])
        except (ValueError, KeyError, TypeError, AttributeError):
            problem = Message(N_("line %(line)s of the checkpoint file cannot be read"), {"line": line_number})
            book.problems.append(Problem(problem))
            break
        if sign(key, document) != claimed:
            problem = Message(N_("checkpoint %(number)s is not signed with the audit key"), {"number": number})
            book.problems.append(Problem(problem))
            break
        if number != expected or document["prev"] != previous:
            message = N_("checkpoint %(number)s does not follow the one before it (a checkpoint is missing)")
            book.problems.append(Problem(Message(message, {"number": number})))
            break
        for chain, (seq, head) in heads.items():
            book.sealed[chain] = Seal(seq, head, number)
        book.last, previous = Checkpoint(number, at, claimed, len(heads)), claimed
    return book
