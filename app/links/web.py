"""Links between incidents on the incident page, and resolving a major incident's children."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from app.links import service
from app.messages import N_
from app.web import HANDLERS, database, incident_service, queries
from app.web.i18n import gettext as _
from app.web.i18n import translate
from app.web.inputs import id_value
from app.web.security import current_actor, roles_required

bp = Blueprint("links", __name__)

# How a link reads from each end: (this incident → other, other → this).
NAMES = {
    service.PART_OF: (N_("Part of major incident"), N_("Child incident")),
    service.DUPLICATE_OF: (N_("Duplicate of"), N_("Duplicated by")),
    service.CAUSED_BY: (N_("Caused by"), N_("Caused")),
    service.RELATED_TO: (N_("Related to"), N_("Related to")),
}


def link_name(kind: str, direction: str = "from") -> str:
    names = NAMES.get(kind)
    return _(names[0 if direction == "from" else 1]) if names else kind


def init(app) -> None:
    app.jinja_env.globals.update(link_name=link_name, link_kinds=service.KINDS_OFFERED)


@bp.route("/incidents/<int:incident_id>/links", methods=["POST"])
@roles_required(*HANDLERS)
def add(incident_id: int):
    other = queries.parse_number(request.form.get("other", ""))
    try:
        service.link(incident_service(), current_actor(), incident_id, request.form.get("kind", ""), other)
    except InvalidInput as error:
        flash("; ".join(translate(message) for message in error.errors.values()), "error")
    except PermissionDenied as error:
        flash(translate(error.message), "error")
    else:
        flash(_("The incidents are linked."), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#links")


@bp.route("/incidents/<int:incident_id>/links/<int:link_id>/delete", methods=["POST"])
@roles_required(*HANDLERS)
def remove(incident_id: int, link_id: int):
    service.unlink(incident_service(), current_actor(), incident_id, link_id)  # a wrong id: the 404 page
    flash(_("The link has been removed."), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#links")


@bp.route("/incidents/<int:incident_id>/resolve-children", methods=["POST"])
@roles_required(*HANDLERS)
def resolve_children(incident_id: int):
    chosen = [value for value in (id_value(text) for text in request.form.getlist("child")) if value is not None]
    if not chosen:
        flash(_("Choose the child incidents to resolve."), "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id) + "#links")
    try:
        results = service.resolve_children(incident_service(), current_actor(), incident_id, chosen)
    except Conflict as error:
        flash(translate(error.message), "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id) + "#links")
    with database().read() as session:
        parent = queries.incident_view(session, incident_id).incident
    title = _("Resolve the child incidents with the solution of %(number)s", number=parent.number)
    back = url_for("incidents.detail", incident_id=incident_id)
    return render_template("bulk/results.html", title=title, results=results, back=back)
