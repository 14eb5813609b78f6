"""Closures by closure code: resolved, workaround, and 未回复，默认关闭 (no reply: the requester neither
confirmed nor rejected and the service desk's follow-up reached nobody) — so those can be told apart."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.reports.backlog import CountRow
from app.reports.counted import Request, counted_of
from app.reports.counters import CLOSED
from app.reports.filters import ReportFilter

CODE_ORDER = ("resolved", "workaround", "no_reply")
CLOSURES: Request = (CLOSED, ("grp",), None, False, True)  # the counters `closures` reads


def closures(session: Session, flt: ReportFilter) -> list[CountRow]:
    """Incidents closed in the period, per closure code (the known codes first, also when none), from
    the per-day counters."""
    counts = {code: values[0] for (code,), values in counted_of(session, flt, CLOSURES).items()}
    codes = list(CODE_ORDER) + sorted(set(counts) - set(CODE_ORDER))
    return [CountRow(code, counts.get(code, 0)) for code in codes]
