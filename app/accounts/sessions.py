"""Server-side sessions: a signed-in browser is a row of `user_sessions`, so a session ends for good
when it is signed out, when it expires, and when its user's password, roles or active state change —
a cookie saved earlier is worth nothing afterwards.

The cookie (Flask's signed session) carries a random token; the table keeps only its SHA-256. A
session expires after IDLE_TIMEOUT without a request and MAX_SESSION after sign-in, whatever the
cookie says.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.models import User, UserSession

IDLE_TIMEOUT = timedelta(minutes=60)  # signed out after an hour without a request
MAX_SESSION = timedelta(hours=12)  # and at the latest after a working day
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often, not on every page


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, now: datetime) -> str:
    """A new session for the user; returns the token for the cookie. Expired sessions are removed."""
    session.execute(
        delete(UserSession).where(
            or_(UserSession.last_seen_at < now - IDLE_TIMEOUT, UserSession.created_at < now - MAX_SESSION)
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=_digest(token), user_id=user.id, created_at=now, last_seen_at=now))
    session.flush()
    return token


@dataclass(frozen=True)
class Current:
    user: User
    session_id: str
    stale: bool  # last_seen_at is old enough to be written again (`touch`)


# One round trip for every request: the session, its user and the roles. Built once (the digest bound when
# it runs): building it and its cache key on every request cost about as much as running it.
CURRENT = (
    select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.id == bindparam("digest"))
    .options(joinedload(User.role_rows))
)


def current(session: Session, token: str, now: datetime) -> Current | None:
    """The live session of this token and its (active) user, or None: unknown, ended or expired."""
    found = session.execute(CURRENT, {"digest": _digest(token)}).unique().first()
    if found is None:
        return None
    row, user = found
    if now - row.last_seen_at > IDLE_TIMEOUT or now - row.created_at > MAX_SESSION or not user.active:
        return None
    return Current(user, row.id, now - row.last_seen_at >= TOUCH_EVERY)


def touch(session: Session, session_id: str, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


def end(session: Session, token: str) -> None:
    """Sign-out: this session only."""
    session.execute(delete(UserSession).where(UserSession.id == _digest(token)))


def end_all(session: Session, user_id: int) -> int:
    """Every session of the user (a new password, roles or state); returns how many ended."""
    return session.execute(delete(UserSession).where(UserSession.user_id == user_id)).rowcount
