"""Accounts and roles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

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
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise UserError(f"unknown role(s): {', '.join(sorted(unknown))}; roles are: {', '.join(ROLES)}")
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user '{username}' already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password, method=hash_method),
        active=True,
        failed_logins=0,
    )
    user.role_rows = [UserRole(role=role) for role in dict.fromkeys(roles)]
    session.add(user)
    session.flush()
    return user


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.display_name, user.roles)
