"""Placeholder until this area is built (replaced in this same change)."""

from flask import Blueprint, abort

from app.web.security import roles_required

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.route("/")
@roles_required("requester")
def index():
    abort(404)
