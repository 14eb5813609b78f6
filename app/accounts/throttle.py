"""Slowing password guessing down without letting anyone lock a real user out.

Failed sign-ins are counted per account name (whether or not such an account exists, so the answer
never tells), per client address, and per trusted device (a browser someone has signed in from
before: it carries a signed cookie for that account, see app/web/auth.py). Once a count reaches its
free allowance, the next attempt with that key is answered only after a delay that doubles with each
further failure, up to CAP. Nothing is ever locked: after the delay the right password works.

An attempt from a trusted device is counted against that device instead of the account, so a
stranger hammering an account slows down only untrusted browsers, never the people who use it.

Each attempt is counted *before* its password is checked (and taken back if it was right), so many
attempts sent at once cannot all slip through before the first failure is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import SignInThrottle

ACCOUNT, ADDRESS, DEVICE = "account", "address", "device"
CAP = timedelta(minutes=15)  # the longest wait between two attempts


@dataclass(frozen=True)
class Rule:
    free: int  # failures answered without delay
    forget: timedelta  # a count with no failure for this long starts again from zero


RULES = {
    ACCOUNT: Rule(free=5, forget=timedelta(hours=24)),
    DEVICE: Rule(free=5, forget=timedelta(hours=24)),
    ADDRESS: Rule(free=30, forget=timedelta(hours=1)),  # an office behind one address mistypes too
}
KEY_LENGTH = SignInThrottle.key.type.length

Key = tuple[str, str]


def account_key(username: str) -> Key:
    return ACCOUNT, username.strip().lower()[:KEY_LENGTH]


def address_key(address: str | None) -> Key:
    return ADDRESS, (address or "unknown")[:KEY_LENGTH]


def device_key(device_id: str) -> Key:
    return DEVICE, device_id[:KEY_LENGTH]


def delay(kind: str, failures: int) -> timedelta:
    """How long after its last failure a key is heard again: nothing within the free allowance, then
    1 s, 2 s, 4 s … up to CAP."""
    over = failures - RULES[kind].free
    if over < 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(over, 20)), CAP)


def _not_before(kind: str, failures: int, now: datetime) -> datetime | None:
    """When the key is heard again; None within its free allowance (a time then, however near, turned away
    an attempt from the same address that began a moment before it was written: answered 429)."""
    wait = delay(kind, failures)
    return now + wait if wait else None


def wait(session: Session, keys: list[Key], now: datetime) -> timedelta:
    """How long until every key may try again (zero: now)."""
    rows = session.scalars(select(SignInThrottle).where(tuple_(SignInThrottle.kind, SignInThrottle.key).in_(keys)))
    waits = [
        row.not_before - now
        for row in rows
        if row.not_before is not None and not _forgotten(row, now) and row.not_before > now
    ]
    return max(waits, default=timedelta(0))


def count(session: Session, keys: list[Key], now: datetime) -> None:
    """One more failure for each key (counted before the password is checked)."""
    _prune(session, now)
    dialect_insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for kind, key in keys:
        create = dialect_insert(SignInThrottle).values(kind=kind, key=key, failures=0, last_failure_at=now)
        session.execute(create.on_conflict_do_nothing(index_elements=["kind", "key"]))
        row = session.execute(
            select(SignInThrottle).where(SignInThrottle.kind == kind, SignInThrottle.key == key).with_for_update()
        ).scalar_one()
        row.failures = 1 if _forgotten(row, now) else row.failures + 1
        row.last_failure_at = now
        row.not_before = _not_before(kind, row.failures, now)
    session.flush()


def succeeded(session: Session, keys: list[Key], now: datetime) -> None:
    """The password was right: the account's and device's counts start again; the address's attempt
    is taken back (its count only falls with time, so one known password cannot reset it)."""
    for kind, key in keys:
        row = session.get(SignInThrottle, (kind, key), with_for_update=True)
        if row is None:
            continue
        if kind == ADDRESS:
            row.failures = max(row.failures - 1, 0)
            row.not_before = _not_before(kind, row.failures, now)
        else:
            session.delete(row)
    session.flush()


def forget_account(session: Session, username: str) -> None:
    """An administrator's password reset lifts the account's slow-down."""
    kind, key = account_key(username)
    session.execute(delete(SignInThrottle).where(SignInThrottle.kind == kind, SignInThrottle.key == key))


def slowed_accounts(session: Session, usernames: list[str], now: datetime) -> dict[str, SignInThrottle]:
    """The accounts (by user name) whose next attempt from an untrusted browser has to wait."""
    keys = {account_key(name)[1]: name for name in usernames}
    rows = session.scalars(
        select(SignInThrottle).where(
            SignInThrottle.kind == ACCOUNT, SignInThrottle.key.in_(keys), SignInThrottle.not_before > now
        )
    )
    return {keys[row.key]: row for row in rows}


def _forgotten(row: SignInThrottle, now: datetime) -> bool:
    return now - row.last_failure_at > RULES[row.kind].forget


def _prune(session: Session, now: datetime) -> None:
    """Counts nobody remembers any more (attempts on made-up names must not pile up)."""
    session.execute(
        delete(SignInThrottle).where(
            or_(
                *(
                    and_(SignInThrottle.kind == kind, SignInThrottle.last_failure_at < now - rule.forget)
                    for kind, rule in RULES.items()
                )
            )
        )
    )
