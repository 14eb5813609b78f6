"""Sign-in, sign-out, language and password."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit
from app.models import User, utcnow
from app.users import actor_of
from app.web import database
from app.web.i18n import LANGUAGES
from app.web.security import login_required, sign_in, sign_out

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5  # consecutive wrong passwords before the account is locked
LOCKOUT = timedelta(minutes=15)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.get("session_expired"):
            flash(_("Your session expired. Please sign in again."), "info")
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    error = _attempt(username, password)
    if error:
        return render_template("auth/login.html", error=error, username=username,
                               next=request.form.get("next", "")), 401  # fmt: skip
    target = request.form.get("next", "")
    return redirect(target if _is_local(target) else url_for("home.index"))


def _attempt(username: str, password: str) -> str | None:
    now = utcnow()
    with database().transaction() as db_session:
        user = db_session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            check_password_hash(_DUMMY_HASH, password)  # same time whether or not the account exists
            return _("Wrong username or password.")
        if user.locked_until and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            return _("Too many failed attempts: the account is locked for %(minutes)s more minutes.", minutes=minutes)
        if not check_password_hash(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until, user.failed_logins = now + LOCKOUT, 0
                audit.append(db_session, kind="account_locked", actor=actor_of(user), at=now, data={})
                return _("Too many failed attempts: the account is locked for %(minutes)s minutes.",
                         minutes=int(LOCKOUT.total_seconds() // 60))  # fmt: skip
            return _("Wrong username or password.")
        user.failed_logins, user.locked_until = 0, None
        sign_in(user)
    return None


_DUMMY_HASH = generate_password_hash("not a password", method="pbkdf2:sha256:1000")


def _is_local(target: str) -> bool:
    parts = urlparse(target)
    return bool(target) and not parts.scheme and not parts.netloc and target.startswith("/")


@bp.route("/logout", methods=["POST"])
def logout():
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
    with database().transaction() as db_session:
        user = db_session.get(User, g.user.id)
        user.password_hash = generate_password_hash(new, method=current_app.config["PASSWORD_HASH_METHOD"])
        audit.append(db_session, kind="password_changed", actor=g.actor, at=utcnow(), data={"user": user.username})
    flash(_("Your password has been changed."), "success")
    return redirect(url_for("home.index"))
