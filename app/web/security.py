"""Who is signed in, what they may open, CSRF protection on every form post, and the headers every
response carries (docs/security.md)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext
from werkzeug.middleware.proxy_fix import ProxyFix

from app.accounts import sessions
from app.audit import Actor
from app.models import utcnow
from app.users import actor_of

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSION_EXPIRED = lazy_gettext("Your session expired. Please sign in again.")

# No script but our own files (and no inline script), nothing framed, nothing sent elsewhere. Inline
# style attributes stay allowed: the templates and the bpmn-js modeler set them; they cannot run code.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # incident numbers in URLs stay inside
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init(app: Flask) -> None:
    # Flask defines these keys already (so setdefault would do nothing): set them.
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=sessions.MAX_SESSION,
        # the cookie lasts MAX_SESSION from sign-in, as its server-side session does (app.accounts.sessions):
        # signed again on every answer, it went on 12 hours past the last request for nothing
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:  # the client's address (for sign-in throttling) is then taken from X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.before_request(_load_user)
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals.update(csrf_token=csrf_token, has_role=has_role)


def _headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":  # pages and exports hold incident data: never kept by a cache
        response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token() -> str:
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _token_authenticated() -> bool:
    """The API (app/api) authenticates every call by its bearer token and never reads the session:
    a browser's cookie cannot act through it, so it needs no CSRF token either."""
    return request.path.startswith("/api/")


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or _token_authenticated():
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


# Requests a page makes by itself (the notification bell's poll): they are not activity, so an open tab
# does not keep its session alive past the idle timeout.
BACKGROUND = frozenset({"notifications.unread"})


def _load_user() -> None:
    """The user of this browser's server-side session; an ended or expired one signs the browser out."""
    g.user = None
    if request.endpoint in ("static", "home.favicon") or _token_authenticated():
        return  # files need no user (and no database round trip); the API has its own (app/api/auth.py)
    token = session.get("sid")
    if not isinstance(token, str):
        return
    from app.web import database

    now = utcnow()
    with database().read() as db_session:
        found = sessions.current(db_session, token, now)
    if found is None:
        session.clear()
        g.session_expired = True
        return
    if found.stale and request.endpoint not in BACKGROUND:
        with database().transaction() as db_session:
            sessions.touch(db_session, found.session_id, now)
    g.user = found.user
    g.actor = actor_of(found.user)


def sign_in(token: str) -> None:
    """This browser now holds the new session `token` (app.accounts.signin); a fresh cookie: no fixation."""
    locale = session.get("locale")
    session.clear()
    session.permanent = True
    session["sid"] = token
    if locale:
        session["locale"] = locale
    csrf_token()


def session_token() -> str | None:
    return session.get("sid")


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
            if g.get("session_expired"):
                flash(str(SESSION_EXPIRED), "info")
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
