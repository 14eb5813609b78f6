"""Accounts: list, create, edit (display name, roles, active) and reset a password.

Every change writes an audit row (never a password or a hash). An administrator cannot remove
their own administrator role or deactivate themselves. New roles, a deactivation or a password reset
end every session of the account at once (app/users.py); it signs in again, with its new roles.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app import audit
from app.accounts import throttle
from app.incidents import assignments
from app.models import User, utcnow
from app.users import ADMIN, ROLES, UserError, create_user, set_password, update_user
from app.web import database, paging, queries
from app.web.security import current_actor, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERNAME = re.compile(r"^[A-Za-z0-9._@-]+$")
USERNAME_LIMIT, NAME_LIMIT = User.username.type.length, User.display_name.type.length
PASSWORD_MIN, PASSWORD_MAX = 8, 256
LIMITS = {"username": USERNAME_LIMIT, "display_name": NAME_LIMIT}  # the form's maxlength, from the columns


@bp.route("/users")
@roles_required(ADMIN)
def users():
    now = utcnow()
    with database().read() as session:
        accounts, page = paging.page_of(session, queries.users_query())
        slowed = throttle.slowed_accounts(session, [user.username for user in accounts], now)
    return render_template("admin/users.html", users=accounts, page=page, slowed=slowed)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def new_user():
    values: dict[str, Any] = {"username": "", "display_name": "", "roles": []}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {
            "username": request.form.get("username", "").strip(),
            "display_name": request.form.get("display_name", "").strip(),
            "roles": request.form.getlist("roles"),
        }
        password = request.form.get("password", "")
        errors = _check_username(values["username"]) | _check_details(values) | _check_password(password)
        if not errors:
            with database().transaction() as session:
                if session.scalar(select(User.id).where(User.username == values["username"])) is not None:
                    errors["username"] = _("This username is already taken.")
                else:
                    user = _create(session, values, password)
                    audit.append(
                        session,
                        kind="user_created",
                        actor=current_actor(),
                        at=utcnow(),
                        data={"user": user.username, "display_name": user.display_name, "roles": sorted(user.roles)},
                    )
                    user_id = user.id
            if not errors:
                flash(_("The account %(username)s has been created.", username=values["username"]), "success")
                return redirect(url_for("admin.edit_user", user_id=user_id))
    return render_template(
        "admin/new.html", values=values, errors=errors, roles=ROLES, limits=LIMITS
    ), 422 if errors else 200


def _create(session, values: dict[str, Any], password: str) -> User:
    try:
        return create_user(
            session,
            values["username"],
            password,
            values["roles"],
            values["display_name"],
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
        )
    except UserError:  # checked above; only a race with another administrator gets here
        abort(409)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_user(user_id: int):
    user = _user(user_id)
    values: dict[str, Any] = {"display_name": user.display_name, "roles": sorted(user.roles), "active": user.active}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {
            "display_name": request.form.get("display_name", "").strip(),
            "roles": request.form.getlist("roles"),
            "active": request.form.get("active") == "1",
        }
        errors = _check_details(values) | _check_self(user, values)
        if not errors:
            with database().transaction() as session:
                account = session.get(User, user_id)
                changes = update_user(session, account, **values)
                released = 0
                if changes:
                    audit.append(
                        session,
                        kind="user_updated",
                        actor=current_actor(),
                        at=utcnow(),
                        data={"user": account.username, "changes": changes},
                    )
                    released = assignments.release_for_account(session, account, current_actor(), utcnow())
            if changes:
                flash(_("The account %(username)s has been updated.", username=user.username), "success")
                if released:
                    flash(_("Open tasks returned to their group's pool: %(count)s.", count=released), "info")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("admin.edit_user", user_id=user_id))
    return _edit_page(user, values, errors, {}, 422 if errors else 200)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(ADMIN)
def reset_password(user_id: int):
    user = _user(user_id)
    password = request.form.get("password", "")
    errors = _check_password(password)
    if not errors and password != request.form.get("confirm", ""):
        errors["confirm"] = _("The two new passwords differ.")
    if errors:
        values = {"display_name": user.display_name, "roles": sorted(user.roles), "active": user.active}
        return _edit_page(user, values, {}, errors, 422)
    with database().transaction() as session:
        account = session.get(User, user_id)
        set_password(session, account, password, hash_method=current_app.config["PASSWORD_HASH_METHOD"])
        data = {"user": account.username}  # never the password or its hash
        audit.append(session, kind="password_reset", actor=current_actor(), at=utcnow(), data=data)
    flash(_("The password of %(username)s has been reset. Tell them to change it after signing in.",
            username=user.username), "success")  # fmt: skip
    return redirect(url_for("admin.edit_user", user_id=user_id))


def _edit_page(user: User, values, errors, password_errors, status):
    with database().read() as session:
        slowed = throttle.slowed_accounts(session, [user.username], utcnow()).get(user.username)
    return (
        render_template(
            "admin/edit.html",
            user=user,
            values=values,
            errors=errors,
            password_errors=password_errors,
            roles=ROLES,
            is_self=user.id == g.user.id,
            slowed=slowed,
            limits=LIMITS,
        ),
        status,
    )


def _user(user_id: int) -> User:
    with database().read() as session:
        user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _check_username(username: str) -> dict[str, str]:
    if not username:
        return {"username": _("Required")}
    if len(username) > USERNAME_LIMIT:
        return {"username": _("Too long (at most %(limit)s characters)", limit=USERNAME_LIMIT)}
    if not USERNAME.match(username):
        return {"username": _("Use letters, digits and . _ @ - only.")}
    return {}


def _check_details(values: dict[str, Any]) -> dict[str, str]:
    errors = {}
    if not values["display_name"]:
        errors["display_name"] = _("Required")
    elif len(values["display_name"]) > NAME_LIMIT:
        errors["display_name"] = _("Too long (at most %(limit)s characters)", limit=NAME_LIMIT)
    if not values["roles"]:
        errors["roles"] = _("Choose at least one role.")
    elif set(values["roles"]) - set(ROLES):
        errors["roles"] = _("Choose one of the options")
    return errors


def _check_self(user: User, values: dict[str, Any]) -> dict[str, str]:
    """An administrator cannot lock themselves out."""
    if user.id != g.user.id:
        return {}
    errors = {}
    if ADMIN not in values["roles"]:
        errors["roles"] = _("You cannot remove your own administrator role.")
    if not values["active"]:
        errors["active"] = _("You cannot deactivate your own account.")
    return errors


def _check_password(password: str) -> dict[str, str]:
    if len(password) < PASSWORD_MIN:
        return {"password": _("At least 8 characters.")}
    if len(password) > PASSWORD_MAX:
        return {"password": _("Too long (at most %(limit)s characters)", limit=PASSWORD_MAX)}
    return {}
