"""The reports' filter (docs/reports.md): a request's query string (or form) read into a `Selection` —
`from`/`to` (dates, both included, in the configured zone), `bucket` (day/week/month), `type`, `level`
(or "none": unlevelled), `group` (a support-group key, or "second_line"). This month by default. Bad
input never fails the page: an unreadable or impossible period falls back to this month, an unknown
value is ignored; both say so (`Selection.notices`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _

from app.models import utcnow
from app.reports import ReportFilter
from app.reports.filters import LEVEL_ORDER, NONE, SUPPORT_GROUPS, TYPE_ORDER
from app.web.timefmt import FIRST_DAY, LAST_DAY, zone

BUCKETS = ("day", "week", "month")
TYPE_CHOICES = tuple(key for key in TYPE_ORDER if key != NONE)  # every incident has a type once registered
LEVEL_CHOICES = LEVEL_ORDER  # "none": unlevelled incidents
GROUP_CHOICES = (*SUPPORT_GROUPS[:3], "second_line", *SUPPORT_GROUPS[3:])  # the filter may name all second line
MAX_DAYS = 366  # a longer period is refused: workload over a year already takes seconds (docs/reports.md)


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
