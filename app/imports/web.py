"""The service desk's CSV import of existing tickets (/imports/): upload, preview every row with what
is wrong with it (its line and the reason), then import all rows in one transaction — or none."""

from __future__ import annotations

from flask import Blueprint, Response, flash, render_template, request
from flask_babel import gettext as _

from app.imports import service as reading
from app.incidents.service import ServiceError
from app.web import database, incident_service
from app.web.i18n import translate
from app.web.security import current_actor, roles_required

bp = Blueprint("imports", __name__, url_prefix="/imports")
DESK = "service_desk"


def _read(text: str) -> reading.Reading:
    schema, _ui = incident_service().start_form()
    with database().read() as session:
        known = reading.existing_tickets(session, reading.tickets_in(text, schema))
    return reading.read(text, schema, known)


def _page(found: reading.Reading | None = None, text: str = "", problems=(), status: int = 200, created=()):
    schema, _ui = incident_service().start_form()
    return (
        render_template(
            "imports/index.html",
            columns=reading.columns(schema),
            found=found,
            text=text,
            problems=[translate(problem) for problem in problems],
            created=created,
            max_rows=reading.MAX_ROWS,
        ),
        status,
    )


@bp.route("/")
@roles_required(DESK)
def index():
    return _page()


@bp.route("/template.csv")
@roles_required(DESK)
def template():
    schema, _ui = incident_service().start_form()
    return Response(
        reading.template(schema),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="tickets.csv"'},
    )


@bp.route("/preview", methods=["POST"])
@roles_required(DESK)
def preview():
    upload = request.files.get("file")
    raw = upload.read() if upload else b""
    text = reading.decode(raw) if raw else None
    if text is None:
        message = _("Choose a CSV file (UTF-8 or GB18030).") if raw else _("Choose a CSV file to import.")
        return _page(problems=[message], status=422)
    found = _read(text)
    return _page(found, text, found.problems, 200 if found.ok else 422)


@bp.route("/run", methods=["POST"])
@roles_required(DESK)
def run():
    """Import what the preview showed: read again (nothing is kept between the two), all rows or none."""
    text = request.form.get("csv", "")
    found = _read(text)
    if not found.ok:
        return _page(found, text, found.problems or [_("Nothing was imported: correct the marked rows.")], 422)
    try:
        ids = incident_service().start_all(current_actor(), [row.data for row in found.rows])
    except ServiceError as error:
        row = found.rows[getattr(error, "index", 0)]
        row.errors.append(("", translate(error.message)))
        return _page(found, text, [_("Nothing was imported: correct the marked rows.")], 422)
    flash(_("%(count)s incidents were imported and registered.", count=len(ids)), "success")
    return _page(created=ids)
