"""Closures by closure code: resolved, workaround, and 未回复，默认关闭 (no reply: the requester neither
confirmed nor rejected and the service desk's follow-up reached nobody) — so those can be told apart."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Incident
from app.reports.backlog import CountRow
from app.reports.filters import ReportFilter

CODE_ORDER = ("resolved", "workaround", "no_reply")


def closures(session: Session, flt: ReportFilter) -> list[CountRow]:
    """Incidents closed in the period, per closure code (the known codes first, also when none)."""
    query = (
        select(Incident.closure_code, func.count())
        .where(Incident.closed_at >= flt.start, Incident.closed_at < flt.end, Incident.closure_code.is_not(None))
        .where(*flt.incident_criteria())
        .group_by(Incident.closure_code)
    )
    counts = dict(session.execute(query).all())
    codes = list(CODE_ORDER) + sorted(set(counts) - set(CODE_ORDER))
    return [CountRow(code, counts.get(code, 0)) for code in codes]
