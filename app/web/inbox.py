"""The inbox and the task pages: claim, release, assign, and complete a task through its form."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.alarms import recovery
from app.comments import service as mentions
from app.incidents import permissions, visibility
from app.incidents.service import Conflict, InvalidInput, PermissionDenied
from app.models import OpenTask
from app.web import HANDLERS, database, formrender, incident_service, paging, queries, reading
from app.web.i18n import content, translate
from app.web.inputs import form_id
from app.web.security import current_actor, login_required, roles_required

bp = Blueprint("inbox", __name__)


@bp.route("/inbox")
@roles_required(*HANDLERS)
def index():
    filters = queries.InboxFilter(
        type=request.args.get("type") or None,
        level=request.args.get("level") or None,
        emergency=request.args.get("emergency") == "1",
        mine=request.args.get("mine") == "1",
    )
    actor = current_actor()
    with database().read() as session:
        query, count = queries.inbox_page(actor, filters), queries.inbox_rows(actor, filters)
        tasks, page = paging.page_of(session, query, count=count)
        mentioned = mentions.unread(session, actor.user_id)
        checks = recovery.pending(session, actor, mine=filters.mine)
        colleagues = queries.assignable_users(session, HANDLERS)
    return render_template("inbox/index.html", tasks=tasks, page=page, filters=filters, mentioned=mentioned,
                           recovery_checks=checks, colleagues=colleagues)  # fmt: skip


@bp.route("/tasks/<int:incident_id>/<task_id>", methods=["GET", "POST"])
@login_required
def task(incident_id: int, task_id: str):
    row = _task_row(incident_id, task_id)
    message, status = None, 200
    if row is None:
        # Completed by someone else, or re-created (after new facts, a timer): keep what was typed
        # and offer the task that took its place, if there is one.
        row = _successor(incident_id, request.form.get("spec_id")) if request.method == "POST" else None
        if row is None:
            flash(_("This task has already been completed, or no longer exists."), "warning")
            return redirect(url_for("incidents.detail", incident_id=incident_id))
        message, status = (
            _("The task was re-created while you were working on it. Check your entries and submit again."),
            409,
        )
    incident = row.incident
    actor = current_actor()
    if not permissions.may_work(actor, row, incident) and not _may_see():
        abort(403)
    posted = request.method == "POST" and status == 200
    form = incident_service().submitted_form(row) if posted else incident_service().task_form(incident_id, row.id)
    requester_side = visibility.audience(actor, incident) == visibility.REQUESTER_SIDE
    schema, ui = visibility.requester_form(form.schema, form.ui) if requester_side else (form.schema, form.ui)
    data, errors = form.data, {}
    if request.method == "POST":
        data = formrender.read_submission(schema, request.form)
        if posted:
            try:
                incident_service().complete_task(actor, incident_id, row.id, data)
            except InvalidInput as error:
                errors, message, status = error.errors, _("Please correct the marked fields."), 422
            except (Conflict, PermissionDenied) as error:
                message, status = translate(error.message), 409 if isinstance(error, Conflict) else 403
            else:
                flash(_("%(task)s completed.", task=content(form.name)), "success")
                return redirect(url_for("incidents.detail", incident_id=incident_id))
    return _render(row, incident, form, formrender.fieldsets(schema, ui, data, errors), errors, message, status)


def _render(row, incident, form, sets, errors, message, status):
    actor = current_actor()
    may_assign = permissions.may_assign(actor, row, incident)
    with database().read() as session:
        # a GET's incident was read with its task a moment ago; after a refused POST it is read as it is now
        just_read = incident if request.method == "GET" else None
        found = reading.read(session, incident.id, actor, request.args.get("timeline"), just_read)
        passable = may_assign and row.candidate_role  # the colleagues to pass it to, read only then
        colleagues = queries.assignable_users(session, [row.candidate_role]) if passable else []
    if found is None:
        abort(403)
    submit = (form.ui.get("ui:submitButtonOptions") or {}).get("submitText")
    return (
        render_template(
            "inbox/task.html",
            task=row,
            reading=found,
            form=form,
            sets=sets,
            submit=content(submit) if submit else _("Submit"),
            form_error=errors.get("") if errors else None,
            message=message,
            may_work=permissions.may_work(actor, row, incident),
            may_claim=permissions.may_claim(actor, row, incident),
            may_release=permissions.may_release(actor, row),
            may_assign=may_assign,
            colleagues=colleagues,
        ),
        status,
    )


def _task_row(incident_id: int, task_id: str) -> OpenTask | None:
    with database().read() as session:
        return queries.task_of(session, incident_id, task_id)


def _successor(incident_id: int, spec_id: str | None) -> OpenTask | None:
    if not spec_id:
        return None
    with database().read() as session:
        query = (
            select(OpenTask)
            .where(OpenTask.incident_id == incident_id, OpenTask.spec_id == spec_id)
            .options(joinedload(OpenTask.incident), queries.ASSIGNEE_NAME)
        )
        return session.scalars(query).first()


def _may_see() -> bool:
    """Handlers and the incident manager may look at any task, read-only."""
    return bool(g.user.roles & set(HANDLERS))


@bp.route("/tasks/<int:incident_id>/<task_id>/claim", methods=["POST"])
@login_required
def claim(incident_id: int, task_id: str):
    return _assignment(incident_id, task_id, lambda actor: incident_service().claim(actor, incident_id, task_id),
                       _("You have claimed the task."))  # fmt: skip


@bp.route("/tasks/<int:incident_id>/<task_id>/release", methods=["POST"])
@login_required
def release(incident_id: int, task_id: str):
    return _assignment(incident_id, task_id, lambda actor: incident_service().release(actor, incident_id, task_id),
                       _("The task is back in the group's inbox."))  # fmt: skip


@bp.route("/tasks/<int:incident_id>/<task_id>/assign", methods=["POST"])
@login_required
def assign(incident_id: int, task_id: str):
    assignee = form_id("assignee")
    if assignee is None:
        flash(_("Choose a colleague."), "error")
        return redirect(url_for("inbox.task", incident_id=incident_id, task_id=task_id))

    def action(actor):
        incident_service().assign(actor, incident_id, task_id, assignee)

    return _assignment(incident_id, task_id, action, _("The task has been assigned."))


def _assignment(incident_id, task_id, action, done_message):
    try:
        action(current_actor())
    except InvalidInput as error:
        flash("; ".join(translate(message) for message in error.errors.values()), "error")
    except (Conflict, PermissionDenied) as error:
        flash(translate(error.message), "error")
    else:
        flash(done_message, "success")
    target = request.form.get("next")
    if target == "inbox":
        return redirect(url_for("inbox.index"))
    return redirect(url_for("inbox.task", incident_id=incident_id, task_id=task_id))
