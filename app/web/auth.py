"""Sign-in, sign-out, language and password.

Signing in goes through app.accounts.signin (throttled, the same answer for every name, audited). A
browser that signed in to an account gets a signed `device` cookie for it: its later attempts at that
account are throttled on their own, so nobody else's failures slow them down (docs/security.md).
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit
from app.accounts import sessions, signin, throttle
from app.models import User, utcnow
from app.web import database
from app.web.i18n import LANGUAGES
from app.web.security import SESSION_EXPIRED, login_required, session_token, sign_in, sign_out

bp = Blueprint("auth", __name__)

DEVICE_COOKIE = "device"
DEVICE_LIFETIME = timedelta(days=180)
UNSAFE_TARGET = re.compile(r"[\x00-\x20\\]")  # controls, spaces and backslashes (which browsers read as /)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.get("session_expired"):
            flash(str(SESSION_EXPIRED), "info")
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    outcome = signin.attempt(
        database(),
        username,
        request.form.get("password", ""),
        address=request.remote_addr,
        device=_trusted_device(username),
        now=utcnow(),
        hash_method=current_app.config["PASSWORD_HASH_METHOD"],
    )
    if not outcome.ok:
        if outcome.wait:
            seconds = math.ceil(outcome.wait.total_seconds())
            error = _("Too many failed sign-ins. Wait %(seconds)s seconds, then try again.", seconds=seconds)
        else:
            error = _("Wrong username or password.")
        page = render_template("auth/login.html", error=error, username=username.strip(),
                               next=request.form.get("next", ""))  # fmt: skip
        return (page, 429, {"Retry-After": str(seconds)}) if outcome.wait else (page, 401)
    sign_in(outcome.token)
    target = request.form.get("next", "")
    response = redirect(target if _is_local(target) else url_for("home.index"))
    _remember_device(response, outcome.user.username, outcome.device)
    return response


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="sign-in-device")


def _trusted_device(username: str) -> str | None:
    """The id of this browser if it signed in to this account before (a valid device cookie for it)."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie:
        return None
    try:
        saved = _devices().loads(cookie, max_age=DEVICE_LIFETIME.total_seconds())
    except BadSignature:
        return None
    same = isinstance(saved, dict) and saved.get("account") == throttle.account_key(username)[1]
    return saved.get("device") if same and isinstance(saved.get("device"), str) else None


def _remember_device(response, username: str, device: str) -> None:
    value = _devices().dumps({"account": throttle.account_key(username)[1], "device": device})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        path=url_for("auth.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def _is_local(target: str) -> bool:
    """A path on this site: one slash, then no scheme, host, control character or backslash."""
    return target.startswith("/") and not target.startswith("//") and not UNSAFE_TARGET.search(target)


@bp.route("/logout", methods=["POST"])
def logout():
    token = session_token()
    if token is not None:
        with database().transaction() as db_session:
            sessions.end(db_session, token)
            if g.get("user") is not None:
                audit.append(db_session, kind="signed_out", actor=g.actor, at=utcnow(), data={})
    sign_out()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    choice = request.form.get("locale")
    if choice in LANGUAGES:
        session["locale"] = choice
        if g.get("user") is not None:
            with database().transaction() as db_session:
                db_session.get(User, g.user.id).locale = choice
    target = request.form.get("next", "")
    return redirect(target if _is_local(target) else url_for("home.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    if request.method == "GET":
        return render_template("auth/password.html")
    current, new = request.form.get("current", ""), request.form.get("new", "")
    errors = {}
    if not check_password_hash(g.user.password_hash, current):
        errors["current"] = _("The current password is wrong.")
    if len(new) < 8:
        errors["new"] = _("At least 8 characters.")
    elif new != request.form.get("confirm", ""):
        errors["confirm"] = _("The two new passwords differ.")
    if errors:
        return render_template("auth/password.html", errors=errors), 422
    now = utcnow()
    with database().transaction() as db_session:
        user = db_session.get(User, g.user.id)
        user.password_hash = generate_password_hash(new, method=current_app.config["PASSWORD_HASH_METHOD"])
        ended = sessions.end_all(db_session, user.id)  # every other browser signs in again
        token = sessions.open_session(db_session, user, now)  # and this one goes on, with a new session
        data = {"user": user.username, "sessions_ended": max(ended - 1, 0)}
        audit.append(db_session, kind="password_changed", actor=g.actor, at=now, data=data)
    sign_in(token)
    flash(_("Your password has been changed. Every other session of your account has been signed out."), "success")
    return redirect(url_for("home.index"))
