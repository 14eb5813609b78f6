"""Bulk actions from the inbox (chosen tasks) and the incident list (chosen incidents): the answer
is a page listing each incident, done or refused with the reason."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.bulk import service
from app.incidents.service import InvalidInput
from app.messages import Message
from app.web import HANDLERS, incident_service, queries
from app.web.i18n import translate
from app.web.inputs import form_id, id_value
from app.web.security import current_actor, roles_required

bp = Blueprint("bulk", __name__, url_prefix="/bulk")

ASSIGN, LINK, DUPLICATE = "assign", "link", "duplicate"


@bp.route("/tasks", methods=["POST"])
@roles_required(*HANDLERS)
def tasks():
    chosen = []
    for value in request.form.getlist("task"):
        incident, _sep, task_id = value.partition(":")
        if id_value(incident) is not None and task_id and len(task_id) <= 36:
            chosen.append((id_value(incident), task_id))
    return _apply([incident_id for incident_id, _task in chosen], chosen, url_for("inbox.index"))


@bp.route("/incidents", methods=["POST"])
@roles_required(*HANDLERS)
def incidents():
    chosen = [value for value in (id_value(text) for text in request.form.getlist("incident")) if value is not None]
    return _apply(chosen, [], url_for("incidents.index"))


def _apply(incident_ids: list[int], tasks: list[tuple[int, str]], back: str):
    action = request.form.get("action", "")
    if not incident_ids:
        flash(_("Choose at least one incident first."), "error")
        return redirect(back)
    actor, incidents = current_actor(), incident_service()
    try:
        if action == ASSIGN and tasks:
            assignee = form_id("assignee")
            if assignee is None:
                raise InvalidInput({"assignee": _message(_("Choose a colleague."))})
            results = service.assign(incidents, actor, tasks, assignee)
            title = _("Assign the chosen tasks")
        elif action == LINK:
            parent = _number("parent")
            results = service.link_to_parent(incidents, actor, incident_ids, parent)
            title = _("Link the chosen incidents to major incident %(number)s", number=service.number(parent))
        elif action == DUPLICATE:
            original = _number("original")
            results = service.close_duplicates(incidents, actor, incident_ids, original)
            title = _("Close the chosen incidents as duplicates of %(number)s", number=service.number(original))
        else:
            raise InvalidInput({"action": _message(_("Choose what to do with them."))})
    except InvalidInput as error:
        flash("; ".join(translate(message) for message in error.errors.values()), "error")
        return redirect(back)
    return render_template("bulk/results.html", title=title, results=results, back=back)


def _number(field: str) -> int:
    found = queries.parse_number(request.form.get(field, ""))
    if found is None:
        raise InvalidInput({field: _message(_("Give the incident's number, e.g. INC000012."))})
    return found


def _message(text: str) -> Message:
    return Message(text)  # already in the reader's language: translate() gives it back as it is
