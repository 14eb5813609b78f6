"""Accounts and roles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.accounts import sessions, throttle
from app.audit import Actor
from app.engine.lanes import (
    FIRST_LINE,
    INCIDENT_MANAGER,
    REQUESTER,
    SECOND_LINE_DEV,
    SECOND_LINE_IS,
    SECOND_LINE_TEST,
    SERVICE_DESK,
)
from app.models import User, UserRole

LEADERSHIP = "leadership"
AUDITOR = "auditor"
PROCESS_OWNER = "process_owner"
ADMIN = "admin"

ROLES = (
    REQUESTER,
    SERVICE_DESK,
    FIRST_LINE,
    SECOND_LINE_DEV,
    SECOND_LINE_TEST,
    SECOND_LINE_IS,
    INCIDENT_MANAGER,
    LEADERSHIP,
    AUDITOR,
    PROCESS_OWNER,
    ADMIN,
)


MIN_PASSWORD = 8


class UserError(ValueError):
    pass


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: list[str] | tuple[str, ...],
    display_name: str | None = None,
    *,
    hash_method: str = "scrypt",
) -> User:
    username = username.strip()
    if not username:
        raise UserError("username is required")
    _check_roles(roles)
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user '{username}' already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password, method=hash_method),
        active=True,
    )
    user.role_rows = [UserRole(role=role) for role in dict.fromkeys(roles)]
    session.add(user)
    session.flush()
    return user


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.display_name, user.roles)


def update_user(
    session: Session, user: User, *, display_name: str, roles: list[str] | tuple[str, ...], active: bool
) -> dict[str, dict[str, object]]:
    """Change an account's display name, roles and active flag; returns what changed (before/after).

    New roles or a deactivation end every session of the account: it signs in again, with its new roles."""
    display_name = display_name.strip()
    if not display_name:
        raise UserError("display name is required")
    _check_roles(roles)
    before = {"display_name": user.display_name, "roles": sorted(user.roles), "active": user.active}
    after = {"display_name": display_name, "roles": sorted(set(roles)), "active": active}
    if before["roles"] != after["roles"]:
        kept = [row for row in user.role_rows if row.role in after["roles"]]
        user.role_rows = kept + [UserRole(role=role) for role in after["roles"] if role not in before["roles"]]
    user.display_name, user.active = display_name, active
    if before["roles"] != after["roles"] or before["active"] != after["active"]:
        sessions.end_all(session, user.id)
    session.flush()
    return {key: {"before": before[key], "after": after[key]} for key in before if before[key] != after[key]}


def set_password(session: Session, user: User, password: str, *, hash_method: str = "scrypt") -> None:
    """A new password: every session of the account ends, and its sign-in slow-down is lifted."""
    _check_password(password)
    user.password_hash = generate_password_hash(password, method=hash_method)
    sessions.end_all(session, user.id)
    throttle.forget_account(session, user.username)
    session.flush()


def _check_roles(roles: list[str] | tuple[str, ...]) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise UserError(f"unknown role(s): {', '.join(sorted(unknown))}; roles are: {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
