"""API tokens: created by an admin for any account or by a person for themselves, shown once, kept
as a SHA-256 (a token is 32 random bytes: no slow hash is needed against guessing), revocable, with
the time of last use. Creating and revoking are audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from app import audit
from app.api.models import ApiToken
from app.audit import Actor
from app.messages import N_, Message
from app.models import User
from app.users import ADMIN

READ = "read"
WRITE_INCIDENTS = "incidents:write"
COMPLETE_TASKS = "tasks:complete"
ALARMS = "alarms"
SCOPES = (READ, WRITE_INCIDENTS, COMPLETE_TASKS, ALARMS)
SCOPE_NAMES = {
    READ: N_("Read incidents, tasks and reports"),
    WRITE_INCIDENTS: N_("Raise incidents and add to them"),
    COMPLETE_TASKS: N_("Claim, release and complete tasks"),
    ALARMS: N_("Send monitoring alarms"),
}
PREFIX = "bss_"
LAST_USED_STEP = timedelta(minutes=1)  # last use is written at most this often per token


class TokenError(Exception):
    def __init__(self, field: str, message: Message):
        self.field, self.message = field, message
        super().__init__(str(message))


@dataclass(frozen=True)
class Created:
    token: ApiToken
    secret: str  # shown once


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_manage(actor: Actor, user_id: int) -> bool:
    """An admin manages every account's tokens; anyone else only their own."""
    return ADMIN in actor.roles or actor.user_id == user_id


def create(session: Session, actor: Actor, user: User, name: str, scopes: list[str], now: datetime) -> Created:
    if not may_manage(actor, user.id):
        raise TokenError("user", Message(N_("You may only create tokens for your own account.")))
    name = name.strip()
    if not name:
        raise TokenError("name", Message(N_("Give the token a name (what will use it).")))
    if len(name) > ApiToken.name.type.length:
        raise TokenError("name", Message(N_("At most %(count)s characters."), {"count": ApiToken.name.type.length}))
    chosen = [scope for scope in SCOPES if scope in scopes]
    if not chosen or len(chosen) != len(set(scopes)):
        raise TokenError("scopes", Message(N_("Choose at least one scope.")))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[: len(PREFIX) + 6],
        token_hash=hash_secret(secret),
        scopes=" ".join(chosen),
        created_by=actor.name,
        created_at=now,
    )
    session.add(token)
    session.flush()
    _audit(session, "api_token_created", actor, now, token)
    return Created(token, secret)


def revoke(session: Session, actor: Actor, token_id: int, now: datetime) -> ApiToken | None:
    token = session.get(ApiToken, token_id)
    if token is None or not may_manage(actor, token.user_id):
        return None
    if token.revoked_at is None:
        token.revoked_at = now
        _audit(session, "api_token_revoked", actor, now, token)
    return token


def listed(session: Session, user_id: int | None = None) -> list[ApiToken]:
    """The tokens of one account, or of every account (None), newest first."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


# Built once, the hash bound when it runs (as app.accounts.sessions.CURRENT: every call reads it)
BY_HASH = (
    select(ApiToken)
    .where(ApiToken.token_hash == bindparam("token_hash"))
    .options(joinedload(ApiToken.user).joinedload(User.role_rows))
)


def authenticate(session: Session, secret: str, now: datetime) -> ApiToken | None:
    """The live token with this secret (its account active, with its roles: one statement); None otherwise."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = session.scalars(BY_HASH, {"token_hash": hash_secret(secret)}).unique().first()
    return token if token is not None and token.active else None


def last_used_stale(token: ApiToken, now: datetime) -> bool:
    """Its last use is old enough to be written again (`used`): at most once a LAST_USED_STEP, not every call."""
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP


def used(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def _audit(session: Session, kind: str, actor: Actor, now: datetime, token: ApiToken) -> None:
    data = {"token_id": token.id, "name": token.name, "user_id": token.user_id, "scopes": token.scopes}
    audit.append(session, kind=kind, actor=actor, at=now, data=data)
