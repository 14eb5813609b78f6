"""Moving running incidents onto a version (app/incidents/moves.py): the preview per incident, one move, or all
that can move. Routes on the process blueprint (app/process/web.py), for process owners only:

    GET  /process/versions/<id>/migrate     every running incident on another version, with what moving it does
    POST /process/versions/<id>/migrate     `incident_id`: move that one; `all`: every one that can move
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.incidents.moves import VersionMoves
from app.incidents.service import NotFound, ServiceError
from app.process import drafts
from app.process.web import OWNER, bp, version_or_404
from app.reports.filters import incident_number
from app.web import database, incident_service
from app.web.i18n import translate
from app.web.inputs import form_id
from app.web.security import current_actor, roles_required


@bp.route("/versions/<int:version_id>/migrate", methods=["GET", "POST"])
@roles_required(OWNER)
def migrate(version_id: int):
    moves = VersionMoves(incident_service())
    if request.method == "POST":
        return _move(moves, version_id)
    return _page(moves, version_id)


def _page(moves: VersionMoves, version_id: int, status: int = 200):
    with database().read() as session:
        target = version_or_404(session, version_id)
        names = drafts.element_names(target.bpmn_xml)
    candidates = moves.candidates(version_id)
    page = render_template(
        "process/migrate.html",
        version=target,
        candidates=candidates,
        movable=sum(1 for candidate in candidates if candidate.preview.can_move),
        names=names,
        number=incident_number,
    )
    return page, status


def _move(moves: VersionMoves, version_id: int):
    target_url = url_for("process.migrate", version_id=version_id)
    actor = current_actor()
    if request.form.get("all"):
        moved, refused = moves.migrate_all(actor, version_id)
        flash(_("%(moved)s incident(s) moved; %(refused)s could not move.", moved=len(moved), refused=len(refused)),
              "success" if moved else "info")  # fmt: skip
        return redirect(target_url)
    incident_id = form_id("incident_id")
    if incident_id is None:
        abort(400)
    try:
        moves.migrate(actor, incident_id, version_id)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(translate(error.message), "error")
        return _page(moves, version_id, 409)
    flash(_("The incident moved to the version."), "success")
    return redirect(target_url)
