"""The start page: each role lands where its work is."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, send_from_directory, url_for

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


@bp.route("/")
@login_required
def index():
    for roles, endpoint in LANDING:
        if has_role(*roles):
            return redirect(url_for(endpoint))
    return redirect(url_for("incidents.index"))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the icon, not a 404."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)
