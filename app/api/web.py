"""The token pages (/account/tokens): everyone manages their own API tokens; an admin also creates
tokens for any account (a monitoring system's account, say) and revokes any. A new token is shown
on the answer to its creation only, never again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.api import tokens
from app.models import User, utcnow
from app.users import ADMIN
from app.web import database
from app.web.i18n import translate
from app.web.inputs import form_id
from app.web.security import current_actor, has_role, login_required

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    actor = current_actor()
    created, errors, status = None, {}, 200
    values = {"name": "", "scopes": [tokens.READ], "user_id": actor.user_id}
    if request.method == "POST":
        values = {
            "name": request.form.get("name", ""),
            "scopes": request.form.getlist("scopes"),
            "user_id": form_id("user_id") or actor.user_id,
        }
        with database().transaction() as session:
            user = session.get(User, values["user_id"])
            if user is None:
                abort(404)
            try:
                created = tokens.create(session, actor, user, values["name"], values["scopes"], utcnow())
            except tokens.TokenError as error:
                errors, status = {error.field: translate(error.message)}, 422
                session.rollback()
        if created is not None:
            values = {"name": "", "scopes": [tokens.READ], "user_id": actor.user_id}
    with database().read() as session:
        listed = tokens.listed(session, None if has_role(ADMIN) else actor.user_id)
        accounts = list(session.scalars(select(User).order_by(User.username))) if has_role(ADMIN) else []
    page = render_template(
        "tokens/index.html",
        tokens=listed,
        created=created,
        errors=errors,
        values=values,
        accounts=accounts,
        scopes=[(scope, _(tokens.SCOPE_NAMES[scope])) for scope in tokens.SCOPES],
    )
    return page, status


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    with database().transaction() as session:
        token = tokens.revoke(session, current_actor(), token_id, utcnow())
    if token is None:
        abort(404)
    flash(_("The token %(name)s has been revoked.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
