"""Incidents: the list, registration by the service desk, the incident page, and the handler
actions that are not tasks (add facts, forward to the incident manager)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.engine.lanes import REQUESTER
from app.forms import event_form
from app.incidents import permissions
from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from app.models import User, UserRole
from app.web import HANDLERS, database, formrender, incident_service, queries
from app.web.i18n import translate
from app.web.security import current_actor, has_role, login_required, roles_required

bp = Blueprint("incidents", __name__, url_prefix="/incidents")

READERS = (*HANDLERS, "leadership", "auditor")


@bp.route("/")
@roles_required(*READERS)
def index():
    filters = queries.IncidentFilter(
        text=request.args.get("q") or None,
        status=request.args.get("status") or None,
        type=request.args.get("type") or None,
        level=request.args.get("level") or None,
        emergency=request.args.get("emergency") == "1",
        breached=request.args.get("breached") == "1",
    )
    with database().read() as session:
        rows = queries.incidents(session, filters)
    return render_template("incidents/index.html", incidents=rows, filters=filters)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("service_desk")
def new():
    schema, ui = incident_service().start_form()
    data, errors, message, status = {}, {}, None, 200
    requester_id = request.form.get("requester_id", type=int)
    if request.method == "POST":
        data = formrender.read_submission(schema, request.form)
        try:
            incident_id = incident_service().start(
                current_actor(), incident=data.get("incident"), requester_id=requester_id, registration=data
            )
        except InvalidInput as error:
            errors, message, status = error.errors, _("Please correct the marked fields."), 422
        else:
            flash(_("The incident has been registered."), "success")
            return redirect(url_for("incidents.detail", incident_id=incident_id))
    with database().read() as session:
        requesters = list(
            session.scalars(
                select(User).join(UserRole).where(UserRole.role == REQUESTER, User.active.is_(True))
                .order_by(User.display_name)
            )
        )  # fmt: skip
    return (
        render_template(
            "incidents/new.html",
            sets=formrender.fieldsets(schema, ui, data, errors),
            form_error=errors.get(""),
            message=message,
            requesters=requesters,
            requester_id=requester_id,
        ),
        status,
    )


@bp.route("/<int:incident_id>")
@login_required
def detail(incident_id: int):
    with database().read() as session:
        view = queries.incident_view(session, incident_id)
    if view is None or not _may_read(view.incident):
        abort(404)  # the same answer whether it does not exist or is someone else's
    actor = current_actor()
    workable = {task.id for task in view.open_tasks if permissions.may_work(actor, task, view.incident)}
    handling = view.incident.status == "open" and permissions.may_handle(actor)
    facts_schema, facts_ui = event_form("update_facts")
    return render_template(
        "incidents/detail.html",
        view=view,
        workable=workable,
        handling=handling,
        facts_sets=_facts_sets(facts_schema, facts_ui) if handling else [],
    )


def _facts_sets(schema, ui, data=None, errors=None):
    """The add-facts form; only the incident manager sees the emergency designation."""
    sets = formrender.fieldsets(schema, ui, data, errors)
    if not has_role("incident_manager"):
        for fieldset in sets:
            fieldset.fields = [f for f in fieldset.fields if not f.path.endswith(".designated_emergency")]
    return sets


def _may_read(incident) -> bool:
    if has_role(*READERS):
        return True
    return has_role(REQUESTER) and incident.requester_id == current_actor().user_id


@bp.route("/<int:incident_id>/facts", methods=["POST"])
@roles_required(*HANDLERS)
def add_facts(incident_id: int):
    schema, ui = event_form("update_facts")
    data = formrender.read_submission(schema, request.form)
    try:
        incident_service().add_facts(current_actor(), incident_id, data.get("update") or {})
    except InvalidInput as error:
        return _facts_page(incident_id, schema, ui, data, error.errors), 422
    except (Conflict, PermissionDenied) as error:
        flash(translate(error.message), "error")
    else:
        flash(_("The facts were added and the incident re-classified."), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


def _facts_page(incident_id, schema, ui, data, errors):
    with database().read() as session:
        view = queries.incident_view(session, incident_id)
    return render_template(
        "incidents/facts.html",
        view=view,
        sets=_facts_sets(schema, ui, data, errors),
        form_error=errors.get(""),
    )


@bp.route("/<int:incident_id>/forward", methods=["POST"])
@roles_required(*HANDLERS)
def forward(incident_id: int):
    try:
        incident_service().forward_for_tracking(current_actor(), incident_id, request.form.get("note", ""))
    except InvalidInput:
        flash(_("Say what the incident manager should track."), "error")
    except (Conflict, PermissionDenied) as error:
        flash(translate(error.message), "error")
    else:
        flash(_("The incident manager will track this incident."), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))
