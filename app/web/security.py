"""Who is signed in, what they may open, and CSRF protection on every form post."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Flask, abort, g, redirect, request, session, url_for

from app.audit import Actor
from app.models import User, utcnow
from app.users import actor_of

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
IDLE_TIMEOUT = timedelta(minutes=60)  # signed out after an hour without a request
MAX_SESSION = timedelta(hours=12)  # and at the latest after a working day


def init(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", MAX_SESSION)
    app.before_request(_load_user)
    app.before_request(_check_csrf)
    app.jinja_env.globals.update(csrf_token=csrf_token, has_role=has_role)


def csrf_token() -> str:
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


def _load_user() -> None:
    g.user = None
    if request.endpoint in ("static", "home.favicon"):
        return  # files need no user (and no database round trip)
    user_id = session.get("user_id")
    if user_id is None:
        return
    now = utcnow()
    last_seen = session.get("last_seen")
    if last_seen is None or now.timestamp() - last_seen > IDLE_TIMEOUT.total_seconds():
        session.clear()
        g.session_expired = True
        return
    from app.web import database

    with database().read() as db_session:
        user = db_session.get(User, user_id)
        roles = user.roles if user is not None else frozenset()
    if user is None or not user.active or session.get("roles") != sorted(roles):
        session.clear()  # removed, disabled, or roles changed since sign-in: sign in again
        return
    session["last_seen"] = now.timestamp()
    g.user = user
    g.actor = actor_of(user)


def sign_in(user: User) -> None:
    session.clear()  # a fresh session: no fixation
    session.permanent = True
    session.update(user_id=user.id, roles=sorted(user.roles), last_seen=utcnow().timestamp())
    csrf_token()


def sign_out() -> None:
    session.clear()


def has_role(*roles: str) -> bool:
    user = g.get("user")
    return user is not None and bool(user.roles & set(roles))


def current_actor() -> Actor:
    return g.actor


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed in, with at least one of the roles; otherwise 403."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the authorization-matrix test
        return wrapped

    return decorator
