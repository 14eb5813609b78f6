"""Response time: how soon an incident is taken up after it was raised (spec §4.3, revised
2026-11-30: clocks run from when an incident is raised).

- **Time to register**: the requester's portal submission (`created_at`) → the service desk's (or
  first line's) registration (`registered_at`), for the incidents raised in the portal and
  registered in the period. An incident the desk raises itself is registered at once and not
  counted. The share registered within the registration target is reported beside it.
- **Time to first handling step**: raised → the first claim or completion of a handling step
  (初始支持, 一线, 二线, 紧急事件处理), for the incidents registered in the period that reached a
  handling step (solved at registration: not counted).

Figures are hours, summarized like resolution time, from the per-day counters
(`app.reports.counters`, on the registration day); the first handling step of each incident is kept
by `app.reports.rollup`. Exactly at the target is within.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from app.reports.counted import Request, counted_of, histograms
from app.reports.counters import TO_FIRST_STEP, TO_REGISTER, TO_REGISTER_SECONDS, TOTAL
from app.reports.filters import ReportFilter
from app.reports.stats import DurationRow, histogram_row

TOLERANCE = 0.001  # seconds
# the counters `response_times` reads: both waits' histograms in 0.01 h, the registration's in seconds
RESPONSES: tuple[Request, ...] = tuple(
    (metric, (), None, True, True) for metric in (TO_REGISTER, TO_FIRST_STEP, TO_REGISTER_SECONDS)
)


@dataclass(frozen=True)
class ResponseTimes:
    to_register: DurationRow
    registered_in_target: int  # of to_register.count
    to_first_step: DurationRow


def response_times(session: Session, flt: ReportFilter, target: timedelta) -> ResponseTimes:
    """The response times of the incidents registered in the period (of the filter's type and level),
    from the per-day counters: "within the target" adds up the whole-second histogram of the waits
    (rounded up: a wait is within a target of whole seconds exactly when its rounded-up value is)."""
    rows = {}
    for request in RESPONSES[:2]:
        name = request[0]
        per_key = histograms(counted_of(session, flt, request), lambda dims, name=name: name)
        rows[name] = histogram_row(name, *per_key.get(name, (0, 0, {})))
    seconds = counted_of(session, flt, RESPONSES[2])
    limit = math.floor(target.total_seconds() + TOLERANCE)
    in_target = sum(values[0] for (bar,), values in seconds.items() if bar != TOTAL and bar <= limit)
    return ResponseTimes(rows[TO_REGISTER], in_target, rows[TO_FIRST_STEP])
