"""One sign-in attempt: throttled, answered the same way and in about the same time whether or not the
account exists, and audited (signed in, sign-in failed)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit
from app.accounts import sessions, throttle
from app.audit import SYSTEM
from app.db import Database
from app.models import User
from app.users import actor_of

USERNAME_LIMIT = User.username.type.length


@dataclass(frozen=True)
class Outcome:
    user: User | None = None  # signed in as
    token: str | None = None  # the new session's token, for the cookie
    device: str | None = None  # the device id to remember this browser by (for the throttle)
    wait: timedelta = timedelta(0)  # throttled: the next attempt is answered after this

    @property
    def ok(self) -> bool:
        return self.user is not None


def attempt(
    db: Database,
    username: str,
    password: str,
    *,
    address: str | None,
    device: str | None,
    now: datetime,
    hash_method: str,
) -> Outcome:
    """`device` is the id of a browser that signed in to this account before (already verified), or None."""
    username = username.strip()
    keys = [throttle.address_key(address), throttle.device_key(device) if device else throttle.account_key(username)]
    where = {"username": username[:USERNAME_LIMIT], "address": address}
    with db.transaction() as session:  # short: the password is checked outside any transaction
        wait = throttle.wait(session, keys, now)
        if wait:
            audit.append(session, kind="sign_in_failed", actor=SYSTEM, at=now, data={**where, "reason": "throttled"})
            return Outcome(wait=wait)
        throttle.count(session, keys, now)
        user = session.scalar(select(User).where(User.username == username)) if username else None
        stored_hash = user.password_hash if user is not None else _dummy_hash(hash_method)
    # The same work for every name: an unknown one is checked against a hash of the same algorithm.
    right = check_password_hash(stored_hash, password)
    with db.transaction() as session:
        if not right or user is None or not user.active:
            reason = "unknown_user" if user is None else "wrong_password" if not right else "disabled"
            audit.append(session, kind="sign_in_failed", actor=SYSTEM, at=now, data={**where, "reason": reason})
            return Outcome()
        throttle.succeeded(session, keys, now)
        user = session.get(User, user.id)
        token = sessions.open_session(session, user, now)
        audit.append(session, kind="signed_in", actor=actor_of(user), at=now, data={"address": address})
    return Outcome(user=user, token=token, device=device or secrets.token_urlsafe(16))


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)
