"""Placeholder until this area is built (replaced in this same change)."""

from flask import Blueprint, abort

from app.web.security import roles_required

bp = Blueprint("manager", __name__, url_prefix="/manager")


@bp.route("/")
@roles_required("incident_manager")
def index():
    abort(404)
