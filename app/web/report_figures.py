"""What the reports page shows, read from the database: every figure of the page in one session
(`read`), and every table of it by name (`CSV_TABLES`: the CSV downloads and the API)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.links.models import is_child
from app.live.service import incidents_version
from app.models import Incident, ProblemTicket, utcnow
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
from app.reports.page import read_counters
from app.reports.resolution_time import resolution_time_by_all
from app.reports.response_time import response_times
from app.reports.stored_repeats import as_of_now, few_candidates, repeat_result, repeat_table, stored_state
from app.reports.workload import OpenTasks, PersonTotals, TaskCounts, open_tasks, person_totals, task_counts
from app.web.report_filter import Selection
from app.web.timefmt import zone

MAX_GROUP = 1000  # incidents in one problem-ticket request
# The page shows the head of its long lists; the CSV has every row (docs/reports.md).
REOPENED_SHOWN = 50
REPEAT_GROUPS_SHOWN = 20
REPEAT_INCIDENTS_SHOWN = 10
TICKETS_SHOWN = 5  # per repeat group


def registration_target() -> timedelta:
    return timedelta(minutes=float(current_app.config["REGISTRATION_TARGET_MINUTES"]))


# name → (function(session, selection) → rows, row type): every table of the page, downloadable.
Table = Callable[[Session, Selection], list]


def _by(report: Callable[..., list], by: str) -> Table:
    return lambda session, sel: report(session, sel.report_filter(), by)


def _repeat_table(session: Session, sel: Selection) -> list[RepeatRow]:
    return repeat_table(session, sel.report_filter(), inline_limit=inline_limit(), tz=zone())


def inline_limit() -> int:  # a period with more candidates shows the repeat groups the timer worker stored
    return int(current_app.config["REPEATS_INLINE_LIMIT"])


def max_age() -> timedelta:  # stored repeat groups older than this are asked for again
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


Workload = tuple[OpenTasks, TaskCounts, PersonTotals]
KEPT = "report_figures"  # the app's `extensions` entry of its `KeptFigures`


class KeptFigures:
    """A worker's last figures per filter, each with the version of what it was read from — the
    incidents' (`live.service.incidents_version`: every change to an incident is an audit row of it, and
    the roll-ups are written with that row), and for the repeat groups the stored analysis' too; given
    again while the version is the same. A page of the same filter then reads no counters, tasks,
    breaches or stored groups: most of its statements and CPU. At most `size` entries (two per filter),
    the least recently read dropped first; gthread workers share it (a lock)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, version: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def read(session: Session, sel: Selection, can_raise: bool) -> dict[str, Any]:
    """Every figure of the page, read in one session (repeat groups' ids only for whom `can_raise` them).
    The figures of the incidents and the repeat groups come from this worker's `KeptFigures` while no
    incident (nor the stored analysis) changed."""
    flt = sel.report_filter()
    now = utcnow()
    version = incidents_version(session)  # before the figures: a change after it is read again next time
    kept = current_app.extensions.setdefault(KEPT, KeptFigures())
    key = ("figures", flt, sel.bucket, registration_target())  # and what of the settings they read
    found_kept = kept.get(key, version)
    if found_kept is None:
        found_kept = _incident_figures(session, flt, sel.bucket)
        kept.put(key, version, found_kept)
    figures, (open_now, done, totals) = found_kept
    analysis, state = stored_state(session, flt)  # stored groups come and age without an incident's change
    key = ("repeats", flt, can_raise, inline_limit())
    # groups found in the request change with any incident; the stored groups of a big period only with
    # the stored analysis (and new problem tickets): those are kept across incidents' changes
    few = few_candidates(session, flt, inline_limit())
    repeats_version = (version if few else None, state)
    found = kept.get(key, repeats_version)
    if found is None:
        found = repeat_result(
            session, flt, shown=REPEAT_GROUPS_SHOWN, rows=REPEAT_INCIDENTS_SHOWN,
            ids_up_to=MAX_GROUP if can_raise else 0, first_tickets=TICKETS_SHOWN, inline_limit=inline_limit(),
            max_age=max_age(), tz=zone(), stored=analysis, few=few,
        )  # fmt: skip
        kept.put(key, repeats_version, found)
    found = as_of_now(found, analysis, max_age())  # an old stored result is asked for again
    return {
        **figures,
        "backlog": replace(figures["backlog"], at=now),  # the backlog now: nothing changed since it was counted
        # the accounts' names, roles and headcounts are read every time: changing an account writes no
        # incident's audit row (`flask users update` none at all)
        "people": workload_by_person(session, flt, open_now, done, totals),
        "groups": workload_by_group(session, flt, open_now, done),
        "repeats": [_repeat_view(n, group, found.tickets) for n, group in enumerate(found.groups, start=1)],
        "repeat_groups": found.count,
        "repeats_found": found,
        "as_of": now,
    }


def _incident_figures(session: Session, flt: ReportFilter, bucket: str) -> tuple[dict[str, Any], Workload]:
    """The figures that change only with an incident's audit row (the roll-ups are kept with each),
    and what the workload tables read of the tasks."""
    read_counters(session, flt, bucket, zone())  # what the figures below read of the counters, at once
    rates = timeliness_by_all(session, flt)
    durations = resolution_time_by_all(session, flt)
    open_now, done = open_tasks(session, flt), task_counts(session, flt)  # read once for both workload tables
    figures = {
        "overall": rates["all"][0],
        "by_period": timeliness_by_period(session, flt, bucket, zone()),
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
        "children": session.scalar(
            select(func.count()).select_from(Incident).where(is_child(Incident.id), Incident.created_at < flt.end)
        ),
    }
    return figures, (open_now, done, person_totals(session, flt, done))
