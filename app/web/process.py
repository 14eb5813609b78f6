"""Placeholder until this area is built (replaced in this same change)."""

from flask import Blueprint, abort

from app.web.security import roles_required

bp = Blueprint("process", __name__, url_prefix="/process")


@bp.route("/")
@roles_required("process_owner")
def index():
    abort(404)
