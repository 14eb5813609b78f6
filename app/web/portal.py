"""The requester portal: raise an incident, follow one's own incidents, confirm resolutions.

A requester sees only the incidents they raised (`requester_id`). An incident raised here is not
registered: it waits, with status `new`, at 事件登记 in the service desk's inbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import forms
from app.engine.lanes import REQUESTER
from app.web import database, formrender, incident_service, paging, queries
from app.web.security import current_actor, roles_required

bp = Blueprint("portal", __name__, url_prefix="/portal")

# The fields of the registration form's `incident` object a requester fills in, in this order.
FIELDS = ("title", "description", "system", "contact")
REQUIRED = ("title", "description", "contact")
SOURCE = "portal"


@bp.route("/")
@roles_required(REQUESTER)
def index():
    actor = current_actor()
    with database().read() as session:
        confirmations, confirmation_page = paging.page_of(
            session, queries.requester_task_query(actor.user_id), param="confirmations"
        )
        mine = queries.incident_query(queries.IncidentFilter(requester_id=actor.user_id))
        incidents, page = paging.page_of(session, mine)
    return render_template("portal/index.html", confirmations=confirmations, confirmation_page=confirmation_page,
                           incidents=incidents, page=page)  # fmt: skip


@bp.route("/new", methods=["GET", "POST"])
@roles_required(REQUESTER)
def new():
    schema, ui = portal_form(*incident_service().start_form())
    data: dict[str, Any] = {}
    errors: Mapping[str, Any] = {}
    if request.method == "POST":
        data = formrender.read_submission(schema, request.form)
        data.setdefault("incident", {})  # nothing filled in: each required field says so
        try:
            clean = forms.validate(schema, data)
        except forms.FormErrors as error:
            errors = error.errors
        else:
            fields = {key: value for key, value in clean["incident"].items() if value is not None}
            actor = current_actor()
            incident_id = incident_service().start(
                actor, incident={**fields, "source": SOURCE}, requester_id=actor.user_id
            )
            flash(_("Your incident has been raised. The service desk will register it shortly."), "success")
            return redirect(url_for("incidents.detail", incident_id=incident_id))
    return (
        render_template(
            "portal/new.html",
            sets=formrender.fieldsets(schema, ui, data, errors),
            form_error=errors.get(""),
            message=_("Please correct the marked fields.") if errors else None,
        ),
        422 if errors else 200,
    )


def portal_form(start_schema: Mapping[str, Any], start_ui: Mapping[str, Any]) -> tuple[dict, dict]:
    """The requester's short form: a few fields of the registration form's `incident` object, with
    their labels, limits and hints as the process defines them (so the service desk sees the same)."""
    incident = start_schema.get("properties", {}).get("incident", {})
    known = incident.get("properties", {})
    properties = {name: known[name] for name in FIELDS if name in known}
    schema = {
        "type": "object",
        "properties": {
            "incident": {
                "type": "object",
                "title": incident.get("title", ""),
                "properties": properties,
                "required": [name for name in REQUIRED if name in properties],
                "additionalProperties": False,
            }
        },
        "required": ["incident"],
        "additionalProperties": False,
    }
    incident_ui = start_ui.get("incident", {})
    ui = {"incident": {name: incident_ui[name] for name in properties if name in incident_ui}}
    ui["incident"]["ui:order"] = list(properties)
    return schema, ui
