"""Management reports (管理信息) for the incident manager and leadership (definitions: docs/reports.md).

- GET  /reports/                 the page: filter bar, timely resolution rate, resolution time, backlog,
                                 breaches, reopens, workload, repeat incidents; every chart beside its table
- GET  /reports/<name>.csv       one table as CSV, with the same filters (`CSV_TABLES` names them)
- POST /reports/problem-tickets  raise a problem ticket (问题单) for a group of repeat incidents
                                 (the incident manager only; leadership reads)

The filter comes from the query string: `from`/`to` (dates, both included, in the configured zone,
Asia/Shanghai), `bucket` (day/week/month), `type`, `level` (or "none": unlevelled), `group` (a
support-group key, or "second_line"). This month by default. Bad input never fails the page: an
unreadable or impossible period falls back to this month, an unknown value is ignored; both say so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

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
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.db import plan_for_the_values
from app.engine.lanes import INCIDENT_MANAGER
from app.links.models import is_child
from app.models import Incident, ProblemTicket, utcnow
from app.problems import service as problems
from app.reports import (
    CountRow,
    DurationRow,
    GroupWorkload,
    PersonWorkload,
    RateRow,
    ReopenedIncident,
    ReopenRow,
    RepeatRow,
    ReportFilter,
    backlog,
    breaches,
    reopened_incidents,
    reopens,
    resolution_time,
    timeliness,
    timeliness_by_all,
    timeliness_by_period,
    workload_by_group,
    workload_by_person,
)
from app.reports.changes import change_waits
from app.reports.closures import closures
from app.reports.filters import LEVEL_ORDER, NONE, SUPPORT_GROUPS, TYPE_ORDER, incident_number
from app.reports.page import read_counters
from app.reports.repeats import RepeatCandidate, find_repeats
from app.reports.resolution_time import resolution_time_by_all
from app.reports.response_time import response_times
from app.reports.stored_repeats import ask, repeat_result, repeat_table, wanted
from app.reports.workload import open_tasks, task_counts
from app.users import LEADERSHIP
from app.web import charts, database
from app.web.inputs import id_value
from app.web.report_csv import csv_chunks
from app.web.report_names import group_name, hours, level_name, percent, roles_name, type_name
from app.web.security import current_actor, roles_required
from app.web.timefmt import FIRST_DAY, LAST_DAY, zone

bp = Blueprint("reports", __name__, url_prefix="/reports")

READERS = (INCIDENT_MANAGER, LEADERSHIP)
BUCKETS = ("day", "week", "month")
TYPE_CHOICES = tuple(key for key in TYPE_ORDER if key != NONE)  # every incident has a type once registered
LEVEL_CHOICES = LEVEL_ORDER  # "none": unlevelled incidents
GROUP_CHOICES = (*SUPPORT_GROUPS[:3], "second_line", *SUPPORT_GROUPS[3:])  # the filter may name all second line
MAX_DAYS = 366  # a longer period is refused: workload over a year already takes seconds (docs/reports.md)
MAX_GROUP = 1000  # incidents in one problem-ticket request
# The page shows the head of its long lists; the CSV has every row (docs/reports.md).
REOPENED_SHOWN = 50
REPEAT_GROUPS_SHOWN = 20
REPEAT_INCIDENTS_SHOWN = 10
TICKETS_SHOWN = 5  # per repeat group


# ---------------------------------------------------------------------------------- the filter


@dataclass(frozen=True)
class Selection:
    """The filter as read from a request: days in the local zone (both included), bucket, narrowing."""

    first: date
    last: date
    bucket: str
    type: str | None = None
    level: str | None = None
    group: str | None = None
    notices: tuple[str, ...] = field(default=(), compare=False)

    def report_filter(self) -> ReportFilter:
        start = datetime.combine(self.first, time(), tzinfo=zone()).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=zone()).astimezone(UTC)
        return ReportFilter(start, end, self.type, self.level, self.group)

    def query(self) -> dict[str, str]:
        """The query string that selects the same (explicit dates, so a link keeps its period)."""
        values = {"from": self.first.isoformat(), "to": self.last.isoformat(), "bucket": self.bucket}
        values.update({name: value for name, value in self.narrowing().items() if value})
        return values

    def narrowing(self) -> dict[str, str | None]:
        return {"type": self.type, "level": self.level, "group": self.group}


def registration_target() -> timedelta:
    return timedelta(minutes=float(current_app.config["REGISTRATION_TARGET_MINUTES"]))


def today() -> date:
    return utcnow().astimezone(zone()).date()


def month_of(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _day(text: str) -> date:
    if len(text) != 10:  # YYYY-MM-DD, as a date input sends it
        raise ValueError(text)
    day = date.fromisoformat(text)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(text)
    return day


def default_bucket(first: date, last: date) -> str:
    days = (last - first).days + 1
    return "day" if days <= 62 else "week" if days <= 190 else "month"


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "…"


def _unknown(name: str, value: str) -> str:
    if name == "type":
        return _("Unknown incident type %(value)s ignored.", value=value)
    if name == "level":
        return _("Unknown level %(value)s ignored.", value=value)
    return _("Unknown support group %(value)s ignored.", value=value)


def selection(args: Mapping[str, str], on: date) -> Selection:
    """The filter of a request (`args`: its query string or form), falling back to this month."""
    notices: list[str] = []
    this_month = month_of(on)
    first_text, last_text = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    first, last = this_month
    if first_text or last_text:
        try:
            # one end alone: the rest of its month
            first = _day(first_text) if first_text else month_of(_day(last_text))[0]
            last = _day(last_text) if last_text else month_of(first)[1]
        except ValueError:
            first, last = this_month
            notices.append(_("The dates could not be read (use YYYY-MM-DD between 2000 and 2099); showing this month."))
        else:
            if last < first:
                first, last = this_month
                notices.append(_("The period ends before it starts; showing this month."))
            elif (last - first).days + 1 > MAX_DAYS:
                first, last = this_month
                notices.append(_("A period can span at most %(days)s days; showing this month.", days=MAX_DAYS))
    bucket = (args.get("bucket") or "").strip()
    if bucket not in BUCKETS:
        if bucket:
            notices.append(_("Unknown time step %(value)s ignored.", value=_shown(bucket)))
        bucket = default_bucket(first, last)
    chosen: dict[str, str | None] = {}
    for name, allowed in (("type", TYPE_CHOICES), ("level", LEVEL_CHOICES), ("group", GROUP_CHOICES)):
        value = (args.get(name) or "").strip()
        chosen[name] = value if value in allowed else None
        if value and value not in allowed:
            notices.append(_unknown(name, _shown(value)))
    return Selection(first, last, bucket, notices=tuple(notices), **chosen)


# ---------------------------------------------------------------------------------- labels and numbers


def bucket_name(key: str, bucket: str, same_year: bool) -> str:
    """A period key for the chart's axis: days without their year when the period is within one year."""
    return key[5:] if bucket == "day" and same_year else key


# ---------------------------------------------------------------------------------- the tables

# name → (function(session, selection) → rows, row type): every table of the page, downloadable.
Table = Callable[[Session, Selection], list]


def _by(report: Callable[..., list], by: str) -> Table:
    return lambda session, sel: report(session, sel.report_filter(), by)


def _repeat_table(session: Session, sel: Selection) -> list[RepeatRow]:
    return repeat_table(session, sel.report_filter(), inline_limit=_inline_limit(), tz=zone())


def _inline_limit() -> int:  # a period with more candidates shows the repeat groups the timer worker stored
    return int(current_app.config["REPEATS_INLINE_LIMIT"])


def _max_age() -> timedelta:  # stored repeat groups older than this are asked for again
    return timedelta(seconds=float(current_app.config["REPEATS_MAX_AGE_SECONDS"]))


CSV_TABLES: dict[str, tuple[Table, type]] = {
    "timeliness": (_by(timeliness, "all"), RateRow),
    "timeliness_by_period": (
        lambda session, sel: timeliness_by_period(session, sel.report_filter(), sel.bucket, zone()),
        RateRow,
    ),
    "timeliness_by_type": (_by(timeliness, "type"), RateRow),
    "timeliness_by_level": (_by(timeliness, "level"), RateRow),
    "timeliness_by_group": (_by(timeliness, "group"), RateRow),
    "resolution_time": (_by(resolution_time, "all"), DurationRow),
    "resolution_time_by_type": (_by(resolution_time, "type"), DurationRow),
    "resolution_time_by_level": (_by(resolution_time, "level"), DurationRow),
    "resolution_time_by_group": (_by(resolution_time, "group"), DurationRow),
    "backlog_by_stage": (lambda session, sel: list(backlog(session, sel.report_filter()).by_stage), CountRow),
    "backlog_by_level": (lambda session, sel: list(backlog(session, sel.report_filter()).by_level), CountRow),
    "breaches": (lambda session, sel: breaches(session, sel.report_filter()), CountRow),
    "reopens": (lambda session, sel: reopens(session, sel.report_filter()), ReopenRow),
    "reopened_incidents": (lambda session, sel: reopened_incidents(session, sel.report_filter()), ReopenedIncident),
    "workload_by_person": (lambda session, sel: workload_by_person(session, sel.report_filter()), PersonWorkload),
    "workload_by_group": (lambda session, sel: workload_by_group(session, sel.report_filter()), GroupWorkload),
    "repeats": (_repeat_table, RepeatRow),
}


@dataclass(frozen=True)
class RepeatView:
    index: int
    group: Any  # RepeatGroup
    tickets: list[ProblemTicket]  # the first TICKETS_SHOWN
    more_tickets: int  # the group's other problem tickets, not listed


def _repeat_view(number: int, group: Any, tickets: dict[int, tuple[list[ProblemTicket], int]]) -> RepeatView:
    """A group as the page lists it: of a year's group's hundreds of tickets, the first few."""
    first, count = tickets.get(number, ([], 0))
    return RepeatView(number, group, first, count - len(first))


def _report(session: Session, sel: Selection, can_raise: bool) -> dict[str, Any]:
    """Every figure of the page, read in one session (repeat groups' ids only for whom `can_raise` them)."""
    flt = sel.report_filter()
    found = repeat_result(
        session, flt, shown=REPEAT_GROUPS_SHOWN, rows=REPEAT_INCIDENTS_SHOWN, ids_up_to=MAX_GROUP if can_raise else 0,
        first_tickets=TICKETS_SHOWN, inline_limit=_inline_limit(), max_age=_max_age(), tz=zone(),
    )  # fmt: skip
    read_counters(session, flt, sel.bucket, zone())  # what the figures below read of the counters, at once
    rates = timeliness_by_all(session, flt)
    durations = resolution_time_by_all(session, flt)
    open_now, done = open_tasks(session, flt), task_counts(session, flt)  # read once for both workload tables
    return {
        "overall": rates["all"][0],
        "by_period": timeliness_by_period(session, flt, sel.bucket, zone()),
        "rate_by": rates,
        "duration": durations["all"][0],
        "response": response_times(session, flt, registration_target()),
        "change_waits": change_waits(session, flt),
        "closures": closures(session, flt),
        "duration_by": durations,
        "backlog": backlog(session, flt),
        "breaches": breaches(session, flt),
        "reopens": reopens(session, flt),
        "reopened": reopened_incidents(session, flt, limit=REOPENED_SHOWN + 1),
        "people": workload_by_person(session, flt, open_now, done),
        "groups": workload_by_group(session, flt, open_now, done),
        "children": session.scalar(
            select(func.count()).select_from(Incident).where(is_child(Incident.id), Incident.created_at < flt.end)
        ),
        "repeats": [_repeat_view(n, group, found.tickets) for n, group in enumerate(found.groups, start=1)],
        "repeat_groups": found.count,
        "repeats_found": found,
        "as_of": utcnow(),  # every figure is read now: the roll-ups are kept with each action
    }


@dataclass(frozen=True)
class Chart:
    title: str  # shown above the chart (and its accessible name)
    svg: str


def _charts(sel: Selection, data: dict[str, Any]) -> dict[str, Chart]:
    same_year = sel.first.year == sel.last.year
    by_stage, by_level = data["backlog"].by_stage, data["backlog"].by_level
    no_backlog = _("Nothing is waiting: no backlog.")

    def bars(title: str, rows, name: Callable[[str], str], empty_text: str, levels: bool = False) -> Chart:
        svg = charts.bar_chart(
            [(name(row.key), row.count) for row in rows],
            title=title,
            classes=[f"level-{row.key}" for row in rows] if levels else None,
            caption=_("Incidents"),
            empty_text=empty_text,
        )
        return Chart(title, svg)

    trend_title = {
        "day": _("Timely resolution rate per day"),
        "week": _("Timely resolution rate per week"),
        "month": _("Timely resolution rate per month"),
    }[sel.bucket]
    trend = charts.line_chart(
        [(bucket_name(row.key, sel.bucket, same_year), row.rate) for row in data["by_period"]],
        title=trend_title,
        value_text=percent,
        y_max=1,
        empty_text=_("Nothing was resolved in this period."),
    )
    return {
        "trend": Chart(trend_title, trend),
        "backlog": bars(_("Backlog now by support group"), by_stage, group_name, no_backlog),
        "backlog_level": bars(_("Backlog now by level"), by_level, level_name, no_backlog, levels=True),
        "breaches": bars(
            _("Deadline breaches by level"),
            data["breaches"],
            level_name,
            _("No deadline was breached in this period."),
            levels=True,
        ),
    }


# ---------------------------------------------------------------------------------- views


@bp.route("/")
@roles_required(*READERS)
def index():
    sel = selection(request.args, today())
    can_raise = INCIDENT_MANAGER in current_actor().roles
    with database().read() as session:
        plan_for_the_values(session)
        data = _report(session, sel, can_raise)
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
        charts=_charts(sel, data),
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
            asking = wanted(session, sel.report_filter(), inline_limit=_inline_limit(), max_age=_max_age())
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


def _incident_ids(values: list[str]) -> list[int] | None:
    """The posted incident ids (comma-joined in a field), or None when one cannot name an incident."""
    ids: list[int] = []
    for value in (part for posted in values for part in posted.split(",")):
        number = id_value(value)
        if number is None:
            return None
        ids.append(number)
    return sorted(set(ids))


@bp.route("/problem-tickets", methods=["POST"])
@roles_required(INCIDENT_MANAGER)
def raise_problem_ticket():
    """Create a problem ticket for a group of repeat incidents (posted as its incident ids).

    The group is checked again here: its incidents must still be linked into one group (the same rule
    as the report), and none of them may have a problem ticket yet. The ticket goes to the group's
    latest incident, with the suggested title; an audit row records it.
    """
    sel = selection(request.form, today())
    back = url_for("reports.index", **sel.query(), _anchor="repeats")
    ids = _incident_ids(request.form.getlist("incident"))
    if not ids or len(ids) < 2 or len(ids) > MAX_GROUP:
        flash(_("Choose a group of at least two repeat incidents."), "error")
        return redirect(back)
    actor, now = current_actor(), utcnow()
    with database().transaction() as session:
        # Lock the group's incidents: two clicks at once cannot both create a ticket (PostgreSQL;
        # SQLite writers are serialized already).
        locked = session.scalars(select(Incident.id).where(Incident.id.in_(ids)).with_for_update()).all()
        existing = session.scalars(
            select(ProblemTicket).where(ProblemTicket.incident_id.in_(ids)).order_by(ProblemTicket.id)
        ).first()
        rows = session.execute(
            select(
                Incident.id, Incident.title, Incident.type, Incident.fault_category, Incident.system,
                Incident.registered_at,
            ).where(Incident.id.in_(ids), Incident.registered_at.is_not(None))
        ).all()  # fmt: skip
        groups = find_repeats([RepeatCandidate(*row) for row in rows], tz=zone())
        if len(locked) != len(ids):
            message = _("Some of these incidents do not exist.")
        elif existing is not None:
            message = _(
                "This group already has a problem ticket: %(ticket)s (%(incident)s). No second ticket was created.",
                ticket=existing.number,
                incident=incident_number(existing.incident_id),
            )
        elif len(groups) != 1 or len(groups[0].incidents) != len(ids):
            message = _("These incidents are no longer one group of repeat incidents. Look at the report again.")
        else:
            message = None
        if message is not None:
            flash(message, "error")
            return redirect(back)
        group = groups[0]
        latest = group.incidents[-1]
        ticket = ProblemTicket(
            incident_id=latest.id, title=group.suggested_title, created_by=actor.name, created_at=now
        )
        session.add(ticket)
        session.flush()
        problems.link(session, ticket, [incident.id for incident in group.incidents])
        audit.append(
            session,
            kind="problem_ticket_created",
            actor=actor,
            at=now,
            incident_id=latest.id,
            data={
                "problem_ticket": ticket.number,
                "title": ticket.title,
                "incidents": [incident.number for incident in group.incidents],
                "source": "repeat_incidents_report",
            },
        )
        number = ticket.number
    flash(
        _("Problem ticket %(ticket)s created for %(count)s repeat incidents.", ticket=number, count=len(ids)),
        "success",
    )
    return redirect(back)
