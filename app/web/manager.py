"""The incident manager's console: emergencies, deadlines at risk, their tasks, announcements, and
designating an incident as an emergency.

Each emergency the manager coordinates has its 发布公告 box here and on the incident page
(`app.incidents.announcements`); the console links to its open 紧急事件处理 task.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.engine.lanes import INCIDENT_MANAGER
from app.incidents.announcements import COORDINATION
from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from app.models import Incident, utcnow
from app.web import database, incident_service, paging, queries, reading
from app.web.i18n import translate
from app.web.labels import STATUSES, label
from app.web.security import current_actor, roles_required

bp = Blueprint("manager", __name__, url_prefix="/manager")

NOTE_LIMIT = 4000
SECTION_ROWS = 25  # rows per list: four lists on one page  # as the add-facts form (forms/update_facts.schema.json)


@bp.route("/")
@roles_required(INCIDENT_MANAGER)
def index():
    now = utcnow()
    role_tasks = queries.role_tasks_query(INCIDENT_MANAGER, queries.MANAGER_TASKS)
    with database().read() as session:
        emergencies, emergency_page = paging.page_of(
            session, queries.emergencies_query(), param="emergencies", per_page=paging.SECTION_ROWS
        )
        at_risk, risk_page = paging.page_of(
            session, queries.at_risk_query(now), count=queries.at_risk_rows(now), param="at_risk",
            per_page=paging.SECTION_ROWS,
        )  # fmt: skip
        to_confirm, confirm_page = paging.page_of(
            session, queries.core_impact_query(), param="to_confirm", per_page=paging.SECTION_ROWS
        )
        tasks, task_page = paging.page_of(session, role_tasks, param="tasks", per_page=paging.SECTION_ROWS)
        overdue = queries.capped_count(session, queries.at_risk_rows(now, breached_only=True))
        close = queries.capped_count(session, queries.at_risk_rows(now, close_only=True))
        shown = {incident.id for incident in emergencies + at_risk}
        theirs = queries.tasks_on(session, INCIDENT_MANAGER, queries.MANAGER_TASKS, shown)
        latest = queries.latest_announcements(session, [incident.id for incident in emergencies])
        announcements = queries.recent_announcements(session)
    by_incident: dict[int, list] = {}
    for task in theirs:
        by_incident.setdefault(task.incident_id, []).append(task)
    return render_template(
        "manager/index.html",
        emergencies=emergencies,
        emergency_page=emergency_page,
        at_risk=at_risk,
        risk_page=risk_page,
        to_confirm=to_confirm,
        confirm_page=confirm_page,
        overdue=overdue,
        close=close,
        tasks=tasks,
        task_page=task_page,
        tasks_of=lambda incident_id: by_incident.get(incident_id, []),
        coordination={
            incident_id: task
            for incident_id, listed in by_incident.items()
            for task in listed
            if task.spec_id == COORDINATION
        },
        latest=latest,
        announcements=announcements,
    )


@bp.route("/designate", methods=["GET", "POST"])
@roles_required(INCIDENT_MANAGER)
def designate():
    """Designate an open incident as an emergency: added as a fact, it re-classifies the incident,
    which then goes to the incident manager (紧急事件处理)."""
    reference = (request.values.get("incident") or "").strip()
    note = (request.form.get("note") or "").strip()
    errors: dict[str, str] = {}
    message, status = None, 200
    incident = _find(reference)
    if request.method == "POST":
        errors = _check(reference, incident, note)
        if errors:
            message, status = _("Please correct the marked fields."), 422
        else:
            try:
                incident_service().add_facts(current_actor(), incident.id, {"note": note, "designated_emergency": True})
            except InvalidInput as error:
                errors = {_field(path): translate(text) for path, text in error.errors.items()}
                message, status = _("Please correct the marked fields."), 422
            except (Conflict, PermissionDenied) as error:
                message, status = translate(error.message), 409 if isinstance(error, Conflict) else 403
            else:
                flash(_("%(number)s is now an emergency.", number=incident.number), "success")
                return redirect(url_for("incidents.detail", incident_id=incident.id))
            incident = _find(reference)  # as it is now
    found = None
    if incident is not None:
        with database().read() as session:
            found = reading.read(session, incident.id, current_actor())
    return (
        render_template(
            "manager/designate.html",
            reference=reference,
            note=note,
            errors=errors,
            message=message,
            reading=found,
        ),
        status,
    )


def _field(path: str) -> str:
    """Where a service error on the add-facts data is shown on this form."""
    return "note" if path == "update.note" else ""


def _find(reference: str) -> Incident | None:
    number = _number(reference)
    if number is None:
        return None
    with database().read() as session:
        return session.get(Incident, number)


def _number(reference: str) -> int | None:
    return queries.parse_number(reference)


def _check(reference: str, incident: Incident | None, note: str) -> dict[str, str]:
    errors = {}
    if not reference:
        errors["incident"] = _("Required")
    elif incident is None:
        errors["incident"] = _("There is no such incident.")
    elif incident.status != "open":
        status = label(STATUSES, incident.status)
        errors["incident"] = _("Only incidents in handling can be designated; this one is: %(status)s.", status=status)
    elif incident.emergency:
        errors["incident"] = _("This incident is already an emergency.")
    if not note:
        errors["note"] = _("Required")
    elif len(note) > NOTE_LIMIT:
        errors["note"] = _("Too long (at most %(limit)s characters)", limit=NOTE_LIMIT)
    return errors
