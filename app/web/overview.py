"""Placeholder until this area is built (replaced in this same change)."""

from flask import Blueprint, abort

from app.web.security import roles_required

bp = Blueprint("overview", __name__, url_prefix="/overview")


@bp.route("/")
@roles_required("leadership", "incident_manager")
def index():
    abort(404)
