"""The "changed since" answers the pages poll (app/static/app.js): tiny JSON, no page rendered."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify

from app.engine.lanes import INCIDENT_MANAGER
from app.incidents import visibility
from app.live import service
from app.models import Incident
from app.users import LEADERSHIP
from app.web import HANDLERS, database
from app.web.security import current_actor, login_required, roles_required

bp = Blueprint("live", __name__, url_prefix="/live")


def init(app) -> None:
    seconds = lambda: current_app.config["LIVE_POLL_SECONDS"]  # noqa: E731 — read per page: tests shorten it
    app.jinja_env.globals.update(live_version=page_version, live_seconds=seconds, badge_text=service.badge_text)


def page_version(scope: str, incident: Incident | None = None) -> str:
    """The version a page was drawn at, written into it for the poller to compare with (an incident's
    page passes the incident it has loaded already)."""
    with database().read() as session:
        if scope == "incident":
            audience = visibility.audience(current_actor(), incident)
            return service.incident_version(session, incident.id, audience)
        return service.incidents_version(session)


@bp.route("/badge")
@roles_required(*HANDLERS)
def badge():
    with database().read() as session:
        count = service.badge(session, current_actor())
    return jsonify(version=str(count), count=count, text=service.badge_text(count))


@bp.route("/incidents/<int:incident_id>")
@login_required
def incident(incident_id: int):
    with database().read() as session:
        found = session.get(Incident, incident_id)
        audience = visibility.audience(current_actor(), found) if found is not None else None
        if audience is None:
            abort(404)  # as the incident page: missing and someone else's look the same
        return jsonify(version=service.incident_version(session, incident_id, audience))


@bp.route("/manager")
@roles_required(INCIDENT_MANAGER)
def manager():
    with database().read() as session:
        return jsonify(version=service.incidents_version(session))


@bp.route("/overview")
@roles_required(LEADERSHIP, INCIDENT_MANAGER)
def overview():
    with database().read() as session:
        return jsonify(version=service.incidents_version(session))
