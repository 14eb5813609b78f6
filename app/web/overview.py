"""The leadership overview: read-only figures and the incidents that need attention now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template
from sqlalchemy import literal, select

from app.engine.lanes import INCIDENT_MANAGER
from app.incidents.projection import STATUSES
from app.models import Incident, utcnow
from app.tallies import service as tallies
from app.users import LEADERSHIP
from app.web import database, paging, queries
from app.web.security import roles_required
from app.web.timefmt import zone

bp = Blueprint("overview", __name__, url_prefix="/overview")

LEVELS = ("black", "red", "orange", "yellow", "minor")
TYPES = ("fault", "complaint", "request", "consultation", "security")


@bp.route("/")
@roles_required(LEADERSHIP, INCIDENT_MANAGER)
def index():
    now = utcnow()
    day_start, day_end = local_day(now)
    with database().read() as session:
        emergencies, emergency_page = paging.page_of(
            session, queries.emergencies_query(), param="emergencies", per_page=paging.SECTION_ROWS
        )
        latest = queries.latest_announcements(session, [incident.id for incident in emergencies])
        past = queries.at_risk_query(now, breached_only=True)
        counted = queries.at_risk_rows(now, breached_only=True)
        breaches, breach_page = paging.page_of(
            session, past, count=counted, param="breaches", per_page=paging.SECTION_ROWS
        )
        open_total = queries.capped_count(session, select(literal(1)).select_from(Incident).where(queries.IS_OPEN))
        tally = tallies.latest(session)  # counted by the timer worker: counting here read every incident
        today, today_page = paging.page_of(
            session, queries.created_between_query(day_start, day_end), param="today", per_page=paging.SECTION_ROWS
        )
    return render_template(
        "overview/index.html",
        emergencies=emergencies,
        emergency_page=emergency_page,
        latest=latest,
        breaches=breaches,
        breach_page=breach_page,
        open_total=open_total,
        tally=tally,
        by_level=_ordered(tally.open_by_level, LEVELS) if tally else [],
        by_type=_ordered(tally.open_by_type, TYPES) if tally else [],
        by_status=_ordered(tally.by_status, STATUSES) if tally else [],
        today=today,
        today_page=today_page,
        day=day_start,
    )


def local_day(now: datetime) -> tuple[datetime, datetime]:
    """Today in the configured zone (Asia/Shanghai), as a UTC interval."""
    local = now.astimezone(zone())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
    return start.astimezone(UTC), end.astimezone(UTC)


def _ordered(counts: dict, codes: tuple[str, ...]) -> list[tuple[str | None, int]]:
    """Every known code (zero included) in its usual order, then any other value that has a count
    (an incident not classified yet has none)."""
    rows: list[tuple[str | None, int]] = [(code, counts.get(code, 0)) for code in codes]
    rows += [(code, count) for code, count in counts.items() if code not in codes and count]
    return rows
