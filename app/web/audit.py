"""Placeholder until this area is built (replaced in this same change)."""

from flask import Blueprint, abort

from app.web.security import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@roles_required("auditor")
def index():
    abort(404)
