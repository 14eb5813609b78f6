"""The start page: each role lands where its work is."""

from __future__ import annotations

from flask import Blueprint, g, redirect, url_for

from app.web import database, queries
from app.web.security import has_role, login_required

bp = Blueprint("home", __name__)

LANDING = (  # first match wins
    (("service_desk", "first_line", "second_line_dev", "second_line_test", "second_line_is"), "inbox.index"),
    (("incident_manager",), "manager.index"),
    (("leadership",), "overview.index"),
    (("requester",), "portal.index"),
    (("auditor",), "audit.index"),
    (("process_owner",), "process.index"),
    (("admin",), "admin.users"),
)


@bp.before_app_request
def count_inbox() -> None:
    if g.get("user") is not None:
        with database().read() as session:
            g.inbox_count = queries.inbox_count(session, g.actor)


@bp.route("/")
@login_required
def index():
    for roles, endpoint in LANDING:
        if has_role(*roles):
            return redirect(url_for(endpoint))
    return redirect(url_for("incidents.index"))
