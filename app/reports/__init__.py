"""Management information (IT 管理信息) for the incident manager and leadership: timely resolution
rate, resolution time, backlog, breaches, reopens, workload, repeat incidents.

Reports read the indexed columns (`incidents`, `open_tasks`) and the audit trail (`audit_events`)
and never deserialize a workflow. Each module has pure functions over plain rows (tested without
a database) and thin query functions taking a `Session` and a `ReportFilter`. Definitions and
approximations: docs/reports.md.
"""

from app.reports.backlog import (
    Backlog,
    CountRow,
    ReopenedIncident,
    ReopenRow,
    backlog,
    breaches,
    reopened_incidents,
    reopens,
)
from app.reports.filters import SHANGHAI, SUPPORT_GROUPS, ReportFilter, bucket_key, bucket_keys
from app.reports.repeats import RepeatGroup, RepeatRow, repeat_rows, repeats
from app.reports.resolution_time import DurationRow, resolution_time
from app.reports.timeliness import RateRow, timeliness, timeliness_by_all, timeliness_by_period
from app.reports.workload import (
    GroupWorkload,
    PersonWorkload,
    TaskSpan,
    completed_tasks,
    workload_by_group,
    workload_by_person,
)

__all__ = [
    "SHANGHAI",
    "SUPPORT_GROUPS",
    "Backlog",
    "CountRow",
    "DurationRow",
    "GroupWorkload",
    "PersonWorkload",
    "RateRow",
    "ReopenRow",
    "ReopenedIncident",
    "RepeatGroup",
    "RepeatRow",
    "ReportFilter",
    "TaskSpan",
    "backlog",
    "breaches",
    "bucket_key",
    "bucket_keys",
    "completed_tasks",
    "reopened_incidents",
    "reopens",
    "repeat_rows",
    "repeats",
    "resolution_time",
    "timeliness",
    "timeliness_by_all",
    "timeliness_by_period",
    "workload_by_group",
    "workload_by_person",
]
