"""The reports page drawn from its figures: the charts, and the rows of its long tables as markup built
in Python (a repeat group's incidents, the reopened incidents): a Jinja loop over a row's cells called
back into Python for each link, badge and time, most of the page's CPU for its ~200 such rows. Each
function returns what the template's loop drew, whitespace included, so the page is the same."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.reports import ReopenedIncident
from app.reports.repeats import RepeatCandidate
from app.web import charts
from app.web.cells import incident_url, status_badge
from app.web.report_filter import Selection
from app.web.report_names import group_name, level_name, percent
from app.web.timefmt import local, zone


def bucket_name(key: str, bucket: str, same_year: bool) -> str:
    """A period key for the chart's axis: days without their year when the period is within one year."""
    return key[5:] if bucket == "day" and same_year else key


@dataclass(frozen=True)
class Chart:
    title: str  # shown above the chart (and its accessible name)
    svg: str


def page_charts(sel: Selection, data: dict[str, Any]) -> dict[str, Chart]:
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


def repeat_rows(incidents: Iterable[RepeatCandidate]) -> Markup:
    """The rows of a repeat group's table: number (a link), title, registration time."""
    tz = zone()
    return Markup("".join(
        f'\n        <tr data-key="{escape(row.number)}"><td><a href="{incident_url(row.id)}">{escape(row.number)}</a>'
        f"</td><td>{escape(row.title)}</td><td>{escape(local(row.registered_at, tz=tz))}</td></tr>\n      "
        for row in incidents
    ))  # fmt: skip


def reopened_rows(rows: Iterable[ReopenedIncident]) -> Markup:
    """The rows of the reopened incidents' table: the incident (a link and its title), its status, its
    reopens in the period and in all."""
    return Markup("".join(
        f'\n          <tr data-key="{escape(row.number)}"><td><a href="{incident_url(row.incident_id)}">'
        f"{escape(row.number)}</a> {escape(row.title)}</td><td>{status_badge(row.status)}</td>"
        f'<td class="num">{row.reopens_in_period}</td><td class="num">{row.reopen_count}</td></tr>\n        '
        for row in rows
    ))  # fmt: skip
