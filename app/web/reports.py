"""Management reports (管理信息) for the incident manager and leadership (definitions: docs/reports.md).

- GET  /reports/                 the page: filter bar, timely resolution rate, resolution time, backlog,
                                 breaches, reopens, workload, repeat incidents; every chart beside its table
- GET  /reports/<name>.csv       one table as CSV, with the same filters (`CSV_TABLES` names them)
- POST /reports/problem-tickets  raise a problem ticket (问题单) for a group of repeat incidents
                                 (the incident manager only; leadership reads)

The filter: `report_filter`; the figures: `report_figures`; the page drawn from them: `report_view`;
the ticket: `report_tickets`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from app.db import plan_for_the_values
from app.engine.lanes import INCIDENT_MANAGER
from app.models import utcnow
from app.reports.stored_repeats import ask, wanted
from app.users import LEADERSHIP
from app.web import database, report_view
from app.web.report_csv import csv_chunks
from app.web.report_figures import (
    CSV_TABLES,
    MAX_GROUP,
    REOPENED_SHOWN,
    REPEAT_INCIDENTS_SHOWN,
    inline_limit,
    max_age,
    read,
    registration_target,
)
from app.web.report_filter import BUCKETS, GROUP_CHOICES, LEVEL_CHOICES, TYPE_CHOICES, month_of, selection, today
from app.web.report_names import group_name, hours, level_name, percent, roles_name, type_name
from app.web.report_tickets import incident_ids, raise_ticket
from app.web.security import current_actor, roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")

READERS = (INCIDENT_MANAGER, LEADERSHIP)


@bp.route("/")
@roles_required(*READERS)
def index():
    sel = selection(request.args, today())
    can_raise = INCIDENT_MANAGER in current_actor().roles
    with database().read() as session:
        plan_for_the_values(session)
        data = read(session, sel, can_raise)
    if data["repeats_found"].wanted:
        ask(database(), sel.report_filter())
    query = sel.query()
    previous = month_of(month_of(today())[0] - timedelta(days=1))
    return render_template(
        "reports/index.html",
        sel=sel,
        query=query,
        zone_name=current_app.config["TIMEZONE"],
        csv_url=lambda name: url_for("reports.download", name=name, **query),
        charts=report_view.page_charts(sel, data),
        repeat_rows=report_view.repeat_rows,
        reopened_rows=report_view.reopened_rows,
        this_month=month_of(today()),
        last_month=previous,
        buckets=BUCKETS,
        type_choices=TYPE_CHOICES,
        level_choices=LEVEL_CHOICES,
        group_choices=GROUP_CHOICES,
        type_name=type_name,
        level_name=level_name,
        group_name=group_name,
        roles_name=roles_name,
        percent=percent,
        hours=hours,
        registration_minutes=f"{registration_target().total_seconds() / 60:g}",
        can_raise=can_raise,
        reopened_shown=REOPENED_SHOWN,
        repeat_incidents_shown=REPEAT_INCIDENTS_SHOWN,
        max_group=MAX_GROUP,
        **data,
    )


@bp.route("/<name>.csv")
@roles_required(*READERS)
def download(name: str):
    if name not in CSV_TABLES:
        abort(404)
    sel = selection(request.args, today())
    table, row_type = CSV_TABLES[name]
    if name == "repeats":  # a big period's rows are the stored ones: ask for them if missing or old
        with database().read() as session:
            asking = wanted(session, sel.report_filter(), inline_limit=inline_limit(), max_age=max_age())
        if asking:
            ask(database(), sel.report_filter())

    def lines():  # streamed: the rows are written as they are read, whatever their number
        with database().read() as session:
            plan_for_the_values(session)
            yield from csv_chunks(name, table(session, sel), row_type)

    filename = f"{name}_{sel.first.isoformat()}_{sel.last.isoformat()}.csv"
    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/problem-tickets", methods=["POST"])
@roles_required(INCIDENT_MANAGER)
def raise_problem_ticket():
    """Create a problem ticket for a group of repeat incidents, posted as its incident ids (`report_tickets`)."""
    sel = selection(request.form, today())
    back = url_for("reports.index", **sel.query(), _anchor="repeats")
    ids = incident_ids(request.form.getlist("incident"))
    if not ids or len(ids) < 2 or len(ids) > MAX_GROUP:
        flash(_("Choose a group of at least two repeat incidents."), "error")
        return redirect(back)
    with database().transaction() as session:
        number, refused = raise_ticket(session, ids, current_actor(), utcnow())
    if refused is not None:
        flash(refused, "error")
        return redirect(back)
    flash(
        _("Problem ticket %(ticket)s created for %(count)s repeat incidents.", ticket=number, count=len(ids)),
        "success",
    )
    return redirect(back)
