"""Placeholder until this area is built (replaced in this same change)."""

from flask import Blueprint, abort

from app.web.security import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.route("/")
@roles_required("incident_manager", "leadership")
def index():
    abort(404)
