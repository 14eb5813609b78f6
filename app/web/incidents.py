"""Incidents: the list, registration by the service desk, the incident page, and the handler
actions that are not tasks (add facts, forward to the incident manager)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.engine.lanes import INCIDENT_MANAGER, REGISTRARS, REQUESTER
from app.forms import event_form
from app.incidents import announcements, permissions
from app.incidents.projection import WAITING_CHANGE
from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from app.messages import N_, Message
from app.models import User, UserRole
from app.users import LEADERSHIP
from app.web import HANDLERS, database, formrender, incident_service, paging, queries, reading
from app.web.i18n import translate
from app.web.inputs import form_id
from app.web.labels import LEVELS, label
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
        rows, page = paging.page_of(session, queries.incident_query(filters))
    return render_template("incidents/index.html", incidents=rows, page=page, filters=filters)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*REGISTRARS)
def new():
    schema, ui = incident_service().start_form()
    data, errors, message, status = {}, {}, None, 200
    requester_id = form_id("requester_id")
    if request.method == "POST":
        data = formrender.read_submission(schema, request.form)
        try:
            if requester_id is None and request.form.get("requester_id", "").strip():
                raise InvalidInput({"requester_id": Message(N_("Choose a person with the requester role."))})
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
            requester_error=errors.get("requester_id"),
            message=message,
            requesters=requesters,
            requester_id=requester_id,
        ),
        status,
    )


@bp.route("/<int:incident_id>")
@login_required
def detail(incident_id: int):
    return _detail_page(incident_id)


def _detail_page(incident_id: int, announcement: str = "", announcement_error=None, status: int = 200):
    actor = current_actor()
    with database().read() as session:
        found = reading.read(session, incident_id, actor, request.args.get("timeline"))
    if found is None:
        abort(404)  # the same answer whether it does not exist or is someone else's
    incident = found.incident
    workable = {task.id for task in found.view.open_tasks if permissions.may_work(actor, task, incident)}
    handling = incident.status == "open" and permissions.may_handle(actor)
    waiting_change = incident.status == WAITING_CHANGE and permissions.may_handle(actor)
    leading = LEADERSHIP in actor.roles and incident.status not in ("closed", "transferred")
    facts_schema, facts_ui = event_form("update_facts")
    page = render_template(
        "incidents/detail.html",
        reading=found,
        workable=workable,
        handling=handling,
        waiting_change=waiting_change,
        leading=leading,
        facts_sets=_facts_sets(facts_schema, facts_ui, current=found.record.facts) if handling else [],
        coordination=_coordination(found, actor),
        announcement=announcement,
        announcement_error=announcement_error,
        may_designate=has_role(INCIDENT_MANAGER) and incident.status == "open" and not incident.emergency,
    )
    return page, status


def _coordination(found, actor):
    """The open coordination task the incident manager may publish an announcement through."""
    if not has_role(INCIDENT_MANAGER):
        return None
    task = next((task for task in found.view.open_tasks if task.spec_id == announcements.COORDINATION), None)
    return task if task is not None and permissions.may_work(actor, task, found.incident) else None


def _facts_sets(schema, ui, data=None, errors=None, current=()):
    """The add-facts form, each field with the value the incident has now; only the incident
    manager sees the emergency designation."""
    sets = formrender.fieldsets(schema, ui, data, errors)
    now = {fact.answer.path: fact.answer for fact in current}
    for fieldset in sets:
        if not has_role("incident_manager"):
            fieldset.fields = [f for f in fieldset.fields if not f.path.endswith(".designated_emergency")]
        for field in fieldset.fields:
            fact = now.get(field.path.rsplit(".", 1)[-1])
            field.current = reading.answer_text(fact) if fact is not None else None
    return sets


@bp.route("/<int:incident_id>/facts", methods=["POST"])
@roles_required(*HANDLERS)
def add_facts(incident_id: int):
    schema, ui = event_form("update_facts")
    data = formrender.read_submission(schema, request.form)
    try:
        change = incident_service().add_facts(current_actor(), incident_id, data.get("update") or {})
    except InvalidInput as error:
        return _facts_page(incident_id, schema, ui, data, error.errors), 422
    except (Conflict, PermissionDenied) as error:
        flash(translate(error.message), "error")
    else:
        flash(_reclassification_message(change), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


def _reclassification_message(change) -> str:
    """What adding the facts did: a new level or deadline, or nothing (a classification never falls)."""
    before, after = (change or {}).get("before") or {}, (change or {}).get("after") or {}
    if before.get("level") != after.get("level"):
        levels = {"before": label(LEVELS, before.get("level")), "after": label(LEVELS, after.get("level"))}
        return _("The facts were added; the level changed: %(before)s → %(after)s.", **levels)
    if before != after:
        return _("The facts were added and the incident re-classified.")
    return _("The facts were added. The classification stays as it was: it is never lowered by new facts.")


def _facts_page(incident_id, schema, ui, data, errors):
    with database().read() as session:
        found = reading.read(session, incident_id, current_actor())
    if found is None:
        abort(404)
    return render_template(
        "incidents/facts.html",
        reading=found,
        sets=_facts_sets(schema, ui, data, errors, current=found.record.facts),
        form_error=errors.get(""),
    )


def _act(incident_id: int, action: Callable[..., None], field: str, missing: str, done: str):
    """One action with one text from the incident page: done, or why not, flashed back on the page."""
    try:
        action(current_actor(), incident_id, request.form.get(field, ""))
    except InvalidInput:
        flash(missing, "error")
    except (Conflict, PermissionDenied) as error:
        flash(translate(error.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.route("/<int:incident_id>/forward", methods=["POST"])
@roles_required(*HANDLERS)
def forward(incident_id: int):
    return _act(incident_id, incident_service().forward_for_tracking, "note",
                _("Say what the incident manager should track."),
                _("The incident manager will track this incident."))  # fmt: skip


@bp.route("/<int:incident_id>/change-done", methods=["POST"])
@roles_required(*HANDLERS)
def change_done(incident_id: int):
    """The defect or requirement the incident waits for is done: back to the handling group."""
    return _act(incident_id, incident_service().report_change_done, "note",
                _("Say what was done (the change's release or reference)."),
                _("The change is done: the incident is back with its handling group."))  # fmt: skip


@bp.route("/<int:incident_id>/urgent", methods=["POST"])
@roles_required(LEADERSHIP)
def demand_urgent(incident_id: int):
    """Leadership demands urgent handling: the incident becomes an emergency (audited as theirs)."""
    return _act(incident_id, incident_service().demand_urgent_handling, "reason",
                _("Say why it must be handled urgently."),
                _("Urgent handling demanded: the incident is now an emergency with the incident manager."))  # fmt: skip


@bp.route("/<int:incident_id>/announce", methods=["POST"])
@roles_required(INCIDENT_MANAGER)
def announce(incident_id: int):
    """Publish an announcement on an emergency the incident manager coordinates."""
    text = request.form.get("announcement", "")
    try:
        announcements.publish(incident_service(), current_actor(), incident_id, text)
    except InvalidInput as error:  # the text stays in its box, with what is wrong beside it
        reason = error.errors.get("announcement") or next(iter(error.errors.values()))
        return _detail_page(incident_id, text, reason, 422)
    except (Conflict, PermissionDenied) as error:
        flash(translate(error.message), "error")
    else:
        flash(_("The announcement has been published."), "success")
    if request.form.get("next") == "manager":
        return redirect(url_for("manager.index"))
    return redirect(url_for("incidents.detail", incident_id=incident_id))
