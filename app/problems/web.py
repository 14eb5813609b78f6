"""Problem tickets (问题单): the incident manager's list and each ticket's page, where its owner,
status and workaround are kept."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.engine.lanes import INCIDENT_MANAGER
from app.incidents.errors import InvalidInput, NotFound, PermissionDenied
from app.problems import lifecycle
from app.problems.service import ProblemService, listing_query
from app.web import HANDLERS, database, paging, queries
from app.web.i18n import translate
from app.web.inputs import form_id
from app.web.security import current_actor, has_role, roles_required

bp = Blueprint("problems", __name__, url_prefix="/problems")

READERS = (*HANDLERS, "leadership", "auditor")


def _service() -> ProblemService:
    return ProblemService(database())


@bp.route("/")
@roles_required(INCIDENT_MANAGER, "leadership", "auditor")
def index():
    status = request.args.get("status") or None
    with database().read() as session:
        tickets, page = paging.page_of(session, listing_query(status))
    return render_template(
        "problems/index.html", tickets=tickets, page=page, status=status, statuses=lifecycle.STATUSES
    )


@bp.route("/<int:ticket_id>", methods=["GET", "POST"])
@roles_required(*READERS)
def detail(ticket_id: int):
    errors, status_code = {}, 200
    if request.method == "POST":
        try:
            _service().update(
                current_actor(), ticket_id, status=request.form.get("status", ""), owner_id=form_id("owner_id"),
                note=request.form.get("note", ""), workaround=request.form.get("workaround", ""),
            )  # fmt: skip
        except InvalidInput as error:
            errors, status_code = {path: translate(message) for path, message in error.errors.items()}, 422
        except PermissionDenied as error:
            abort(403, translate(error.message))
        except NotFound:
            abort(404)
        else:
            flash(_("The problem ticket was updated."), "success")
            return redirect(url_for("problems.detail", ticket_id=ticket_id))
    try:
        view = _service().view(ticket_id)
    except NotFound:
        abort(404)
    editing = has_role(INCIDENT_MANAGER)
    with database().read() as session:
        owners = queries.assignable_users(session, sorted(set(HANDLERS))) if editing else []
    page = render_template(
        "problems/detail.html",
        view=view,
        editing=editing,
        next_statuses=lifecycle.NEXT.get(view.ticket.status, ()),
        owners=owners,
        errors=errors,
        form=request.form if errors else {},
    )
    return page, status_code
