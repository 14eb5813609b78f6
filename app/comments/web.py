"""Work notes, comments, withdrawal and mentions on the web: the forms post here and go back to the
incident page (or the task page they were written on)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from app.attachments import web as files
from app.comments import service
from app.comments.models import COMMENT, WORK_NOTE
from app.engine.lanes import REQUESTER
from app.incidents import visibility
from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from app.models import Incident
from app.users import LEADERSHIP
from app.web import HANDLERS, database, incident_service
from app.web.i18n import translate
from app.web.inputs import id_value
from app.web.security import current_actor, roles_required

bp = Blueprint("comments", __name__)


@bp.route("/incidents/<int:incident_id>/work-notes", methods=["POST"])
@roles_required(*HANDLERS, LEADERSHIP)
def work_note(incident_id: int):
    if service.leads(current_actor()):  # leadership's coordination note
        done = _("Your coordination note is on the timeline; the incident manager and the step holders are told.")
    else:
        done = _("The work note has been added. Only handlers read it.")
    return _write(incident_id, WORK_NOTE, done)


@bp.route("/incidents/<int:incident_id>/comments", methods=["POST"])
@roles_required(*HANDLERS, REQUESTER)
def comment(incident_id: int):
    return _write(incident_id, COMMENT, _("The comment has been added. The requester reads it."))


@bp.url_value_preprocessor
def _limit(endpoint, values):
    if endpoint in ("comments.work_note", "comments.comment"):
        files.allow_upload()  # a note or comment may carry a file


bp.register_error_handler(RequestEntityTooLarge, files.too_large)


def _write(incident_id: int, kind: str, done: str):
    actor = current_actor()
    upload = files.upload_of()
    try:  # someone who may not read the incident gets the 404 of a missing one (the error handler)
        service.add(incident_service(), actor, incident_id, kind, request.form.get("text", ""),
                    [upload] if upload else [], files.limits())  # fmt: skip
    except InvalidInput as error:
        flash("; ".join(translate(message) for message in error.errors.values()), "error")
    except PermissionDenied as error:
        flash(translate(error.message), "error")
    else:
        mine = kind == COMMENT and not (actor.roles & set(HANDLERS))
        flash(_("Your comment has been added. The service desk reads it.") if mine else done, "success")
    return _back(incident_id)


@bp.route("/incidents/<int:incident_id>/withdraw", methods=["POST"])
@roles_required(REQUESTER)
def withdraw(incident_id: int):
    actor = current_actor()
    with database().read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None or visibility.audience(actor, incident) != visibility.REQUESTER_SIDE:
            abort(404)  # someone else's incident: as if it did not exist
    try:
        incident_service().withdraw(actor, incident_id, request.form.get("reason", "")[: service.MAX_TEXT])
    except (Conflict, PermissionDenied) as error:
        flash(translate(error.message), "error")
    else:
        flash(_("You have withdrawn the incident. Nothing more will be done about it."), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.route("/mentions/read", methods=["POST"])
@roles_required(*HANDLERS)
def mark_read():
    ids = [value for value in (id_value(text) for text in request.form.getlist("mention")) if value is not None]
    if ids:
        service.mark_read(incident_service(), current_actor(), ids)
    return redirect(url_for("inbox.index"))


def _back(incident_id: int):
    """To the task page the text was written on, if it came from one; else the incident page."""
    task_id = request.form.get("task_id", "")
    if task_id and len(task_id) <= 36 and task_id.replace("-", "").isalnum():
        return redirect(url_for("inbox.task", incident_id=incident_id, task_id=task_id) + "#conversation")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#conversation")
