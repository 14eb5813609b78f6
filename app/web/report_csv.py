"""The reports' CSV downloads as people read them: headers, names and times in the reader's language
(the time zone of the page), percentages and hours as on the page; the same writer as the audit's
exports (UTF-8 with a BOM for Excel, formula-like text kept as text)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask_babel import gettext as _

from app import audit_export
from app.messages import N_
from app.reports import (
    CountRow,
    DurationRow,
    GroupWorkload,
    PersonWorkload,
    RateRow,
    ReopenedIncident,
    ReopenRow,
    RepeatRow,
)
from app.web.labels import STATUSES, label
from app.web.report_names import group_name, hours, level_name, percent, roles_name, type_name
from app.web.timefmt import local, zone

Name = Callable[[Any], str]


def _all(_key: Any) -> str:
    return _("All incidents")


def _same(key: Any) -> str:
    return str(key)


# table → (header of its key column, the key in words)
KEYS: dict[str, tuple[str, Name]] = {
    "timeliness": (N_("Scope"), _all),
    "timeliness_by_period": (N_("Period"), _same),
    "timeliness_by_type": (N_("Type"), type_name),
    "timeliness_by_level": (N_("Level"), level_name),
    "timeliness_by_group": (N_("Support group"), group_name),
    "resolution_time": (N_("Scope"), _all),
    "resolution_time_by_type": (N_("Type"), type_name),
    "resolution_time_by_level": (N_("Level"), level_name),
    "resolution_time_by_group": (N_("Support group"), group_name),
    "backlog_by_stage": (N_("Support group"), group_name),
    "backlog_by_level": (N_("Level"), level_name),
    "breaches": (N_("Level"), level_name),
    "reopens": (N_("Support group"), group_name),
}


def _columns(row_type: type) -> list[tuple[str, str, Name | None]]:
    """(field, header, how the value reads) of each column a row type shows; ids stay out."""
    hour = hours
    yes, no = _("yes"), _("no")  # once, not per row
    tz = zone()

    def _yes_no(value: Any) -> str:
        return yes if value else no

    by_type: dict[type, list[tuple[str, str, Name | None]]] = {
        RateRow: [("resolved", _("Resolved"), None), ("timely", _("In time"), None), ("rate", _("Rate"), percent)],
        DurationRow: [
            ("count", _("Resolved"), None),
            ("mean_hours", _("Mean (hours)"), hour),
            ("median_hours", _("Median (hours)"), hour),
            ("p90_hours", _("P90 (hours)"), hour),
            ("max_hours", _("Max (hours)"), hour),
        ],
        CountRow: [("count", _("Incidents"), None)],
        ReopenRow: [("reopens", _("Reopens"), None), ("incidents", _("Incidents"), None)],
        ReopenedIncident: [
            ("number", _("Number"), None),
            ("title", _("Title"), None),
            ("status", _("Status"), lambda code: label(STATUSES, code)),
            ("reopens_in_period", _("Reopens in the period"), None),
            ("reopen_count", _("Reopens in all"), None),
        ],
        PersonWorkload: [
            ("name", _("Person"), None),
            ("roles", _("Roles"), roles_name),
            ("completed", _("Tasks completed"), None),
            ("waiting_hours", _("Waiting (hours)"), hour),
            ("mean_waiting_hours", _("Waiting per task (hours)"), hour),
            ("working_hours", _("Working (hours)"), hour),
            ("mean_working_hours", _("Working per task (hours)"), hour),
            ("open_assigned", _("Open tasks assigned"), None),
        ],
        GroupWorkload: [
            ("group", _("Group (roles)"), roles_name),
            ("people", _("People in the group"), None),
            ("contributors", _("People who completed tasks"), None),
            ("completed", _("Tasks completed"), None),
            ("waiting_hours", _("Waiting (hours)"), hour),
            ("mean_waiting_hours", _("Waiting per task (hours)"), hour),
            ("working_hours", _("Working (hours)"), hour),
            ("mean_working_hours", _("Working per task (hours)"), hour),
            ("open_assigned", _("Open, assigned"), None),
            ("open_unassigned", _("Open, in the queue"), None),
        ],
        RepeatRow: [
            ("group", _("Group"), None),
            ("group_size", _("Incidents in the group"), None),
            ("suggested_title", _("Suggested problem ticket title"), None),
            ("group_has_problem_ticket", _("The group has a problem ticket"), _yes_no),
            ("number", _("Number"), None),
            ("title", _("Title"), None),
            ("registered_at", _("Registered"), lambda moment: local(moment, "%Y-%m-%d %H:%M:%S", tz)),
            ("has_problem_ticket", _("Has a problem ticket"), _yes_no),
        ],
    }
    return by_type[row_type]


def csv_chunks(name: str, rows: Iterable[Any], row_type: type) -> Iterator[bytes]:
    """One report table as a CSV download, in pieces of `audit_export.CHUNK_ROWS` lines (the rows are read as
    they are written; the header first): a write per piece, not per line (16,000 for a month's repeats)."""
    columns = _columns(row_type)
    if name in KEYS:
        header, key_name = KEYS[name]
        columns = [("key", _(header), key_name), *columns]
    fields = [field for field, _header, _reads in columns]
    records = ({field: getattr(row, field) for field in fields} for row in rows)  # not asdict: no deep copies
    formatters = {field: reads for field, _header, reads in columns if reads is not None}
    for piece in audit_export.csv_chunks(records, [(field, header) for field, header, _reads in columns], formatters):
        yield piece.encode("utf-8")
