"""The figures behind /reports as JSON: every table of the page (the CSV downloads' tables), with the
same filter (`from`, `to`, `bucket`, `type`, `level`, `group`) and the same readers."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from flask import request
from flask_babel import gettext as _

from app.api import problems, schemas
from app.api.auth import requires, roles_required
from app.api.blueprint import answers, bp, spec
from app.api.tokens import READ
from app.db import plan_for_the_values
from app.web import database
from app.web.report_figures import CSV_TABLES
from app.web.report_filter import selection, today
from app.web.reports import READERS

TAGS = ("reports",)


def plain(value: Any) -> Any:
    """A report row (dataclasses, tuples, dates) as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@bp.get("/reports")
@requires(READ)
@spec.validate(resp=answers(401, 403, HTTP_200=list[str]), tags=TAGS)
def report_names():
    """The names of the reports (the tables of the reports page)."""
    roles_required(*READERS)
    return list(CSV_TABLES)


@bp.get("/reports/<name>")
@requires(READ)
@spec.validate(
    query=schemas.ReportQuery,
    resp=answers(401, 403, 404, HTTP_200=schemas.ReportOut),
    tags=TAGS,
)
def report(name: str):
    """One report's rows. An unreadable period falls back to this month and an unknown value is
    ignored, as on the page; `notices` says so."""
    roles_required(*READERS)
    if name not in CSV_TABLES:
        raise problems.ApiProblem(404, _("Not found"), _("There is no report of this name."))
    sel = selection(request.args, today())
    table, _row_type = CSV_TABLES[name]
    with database().read() as session:
        plan_for_the_values(session)
        rows = table(session, sel)
    return schemas.ReportOut(
        name=name,
        first_day=sel.first.isoformat(),
        last_day=sel.last.isoformat(),
        notices=list(sel.notices),
        rows=[plain(row) for row in rows],
    )
