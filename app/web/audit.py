"""The auditors' area (read-only): search every instance, read one instance's complete history with
the diagram replayed on the version it ran on, check the audit hash chain, export CSV and JSON.

Searches read the incidents' list columns and the audit rows only, never a workflow. There are no
POST routes here: an auditor changes nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, defer, joinedload, raiseload

from app import audit, audit_export
from app.forms import read_form_files
from app.models import Announcement, AuditEvent, Incident, OpenTask, ProblemTicket, ProcessVersion, User
from app.web import labels, queries
from app.web.i18n import content
from app.web.security import roles_required
from app.web.timefmt import local, zone

bp = Blueprint("audit", __name__, url_prefix="/audit")

AUDITOR = "auditor"
PER_PAGE = 50
SECONDS = "%Y-%m-%d %H:%M:%S"
TIMER_KINDS = ("deadline_warning", "deadline_breach", "notification_overdue")
ASSIGNMENT_KINDS = ("task_claimed", "task_released", "task_assigned")
# the roles whose people (or the system) act on incidents
ACTING_ROLES = (
    "requester",
    "service_desk",
    "first_line",
    "second_line_dev",
    "second_line_test",
    "second_line_is",
    "incident_manager",
    "system",
)
STATUS_CODES = ("new", "open", "resolved", "closed", "transferred")
TYPE_CODES = ("fault", "complaint", "request", "consultation", "security")
LEVEL_CODES = ("black", "red", "orange", "yellow", "minor")
LATE = "late_notification"  # the fact rule E1 adds; no form asks for it
ASSESSMENT_KEYS = ("level", "impact", "urgency", "emergency", "due_at")


def _db():
    return current_app.extensions["db"]


# ============================================================================================ search


@dataclass(frozen=True)
class AuditFilter:
    text: str = ""
    registered_from: date | None = None
    registered_to: date | None = None
    type: str = ""
    level: str = ""
    status: str = ""
    breached: bool = False
    emergency: bool = False
    role: str = ""
    person: str = ""

    def args(self) -> dict[str, str]:
        """The filter as query-string arguments (for links that keep it)."""
        values = {
            "q": self.text,
            "from": self.registered_from.isoformat() if self.registered_from else "",
            "to": self.registered_to.isoformat() if self.registered_to else "",
            "type": self.type,
            "level": self.level,
            "status": self.status,
            "breached": "1" if self.breached else "",
            "emergency": "1" if self.emergency else "",
            "role": self.role,
            "person": self.person,
        }
        return {key: value for key, value in values.items() if value}


def read_filter(args: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """The filter from the query string; dates that do not parse are named in `errors` and left out."""
    errors: dict[str, str] = {}

    def day(name: str) -> date | None:
        text = (args.get(name) or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            errors[name] = _("Enter a date like 2026-03-02.")
            return None

    filters = AuditFilter(
        text=(args.get("q") or "").strip(),
        registered_from=day("from"),
        registered_to=day("to"),
        type=args.get("type") or "",
        level=args.get("level") or "",
        status=args.get("status") or "",
        breached=args.get("breached") == "1",
        emergency=args.get("emergency") == "1",
        role=args.get("role") or "",
        person=(args.get("person") or "").strip(),
    )
    return filters, errors


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone())


def _number(text: str) -> int | None:
    digits = text.strip().upper().removeprefix("INC")
    return int(digits) if digits.isdigit() and int(digits) < 2**31 else None  # an id fits an INTEGER column


def _has_role(role: str):
    """actor_role is the acting roles joined by commas: match the whole role, not a part of one."""
    column = AuditEvent.actor_role
    return or_(
        column == role,
        column.like(f"{role},%"),
        column.like(f"%,{role}"),
        column.like(f"%,{role},%"),
    )


def _pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_query(filters: AuditFilter) -> Select:
    """Incidents matching the filter, newest first (list columns only: no workflow, no diagram)."""
    query = select(Incident).options(defer(Incident.workflow), raiseload(Incident.process_version))
    registered = func.coalesce(Incident.registered_at, Incident.created_at)
    if filters.registered_from:
        query = query.where(registered >= _start_of(filters.registered_from))
    if filters.registered_to:
        query = query.where(registered < _start_of(filters.registered_to + timedelta(days=1)))
    for column, value in ((Incident.type, filters.type), (Incident.level, filters.level),
                          (Incident.status, filters.status)):  # fmt: skip
        if value:
            query = query.where(column == value)
    if filters.breached:
        query = query.where(Incident.breached.is_(True))
    if filters.emergency:
        query = query.where(Incident.emergency.is_(True))
    if filters.text:
        pattern = _pattern(filters.text)
        condition = or_(Incident.title.ilike(pattern, escape="\\"), Incident.system.ilike(pattern, escape="\\"))
        number = _number(filters.text)
        query = query.where(or_(condition, Incident.id == number) if number is not None else condition)
    if filters.role or filters.person:
        # one audit row where this person acted (in this role, when both are given)
        acted = [AuditEvent.incident_id == Incident.id]
        if filters.role:
            acted.append(_has_role(filters.role))
        if filters.person:
            pattern = _pattern(filters.person)
            people = select(User.id).where(
                or_(func.lower(User.username) == filters.person.lower(), User.display_name.ilike(pattern, escape="\\"))
            )
            acted.append(or_(AuditEvent.actor_name.ilike(pattern, escape="\\"), AuditEvent.actor_id.in_(people)))
        query = query.where(exists().where(and_(*acted)))
    return query.order_by(Incident.id.desc())


def _versions(session: Session) -> dict[int, int]:
    return dict(session.execute(select(ProcessVersion.id, ProcessVersion.version)).all())


@dataclass(frozen=True)
class Integrity:
    ok: bool
    checked: int
    broken_at: int | None
    reason: str | None  # in the reader's language
    raw_reason: str | None  # as app.audit words it (exports)
    broken_incident_id: int | None
    append_only_in_database: bool

    @property
    def broken_number(self) -> str | None:
        return None if self.broken_incident_id is None else f"INC{self.broken_incident_id:06d}"


REASONS = (
    (
        re.compile(r"^link to the previous row does not match$"),
        lambda m: _("its link to the previous row does not match"),
    ),
    (re.compile(r"^content does not match its hash$"), lambda m: _("its content does not match its hash")),
    (re.compile(r"^row (\d+) is missing$"), lambda m: _("row %(id)s is missing", id=m.group(1))),
    (re.compile(r"^rows from (\d+) on are missing$"), lambda m: _("rows from %(id)s on are missing", id=m.group(1))),
)


def _reason(text: str | None) -> str | None:
    for pattern, translate in REASONS:
        found = pattern.match(text or "")
        if found:
            return translate(found)
    return text


def integrity(session: Session) -> Integrity:
    """Walk the whole hash chain; name the first row that does not verify, and its incident."""
    result = audit.verify(session)
    incident_id = None
    if not result.ok and result.broken_at is not None:
        incident_id = session.scalar(select(AuditEvent.incident_id).where(AuditEvent.id == result.broken_at))
    return Integrity(
        ok=result.ok,
        checked=result.checked,
        broken_at=result.broken_at,
        reason=_reason(result.reason),
        raw_reason=result.reason,
        broken_incident_id=incident_id,
        append_only_in_database=_db().is_postgresql,
    )


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * PER_PAGE + 1

    @property
    def last_row(self) -> int:
        return min(self.number * PER_PAGE, self.total)


@bp.route("/")
@roles_required(AUDITOR)
def index():
    filters, errors = read_filter(request.args)
    wanted = max(request.args.get("page", default=1, type=int) or 1, 1)
    query = search_query(filters)
    with _db().read() as session:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        pages = max(math.ceil(total / PER_PAGE), 1)
        page = Page(min(wanted, pages), pages, total)
        rows = list(session.scalars(query.limit(PER_PAGE).offset((page.number - 1) * PER_PAGE)))
        versions = _versions(session)
        check = integrity(session)
        people = list(session.scalars(select(User.display_name).order_by(User.display_name)))
    return render_template(
        "audit/index.html",
        incidents=rows,
        versions=versions,
        filters=filters,
        args=filters.args(),
        errors=errors,
        page=page,
        integrity=check,
        people=people,
        role_codes=ACTING_ROLES,
        status_codes=STATUS_CODES,
        type_codes=TYPE_CODES,
        level_codes=LEVEL_CODES,
    )


def _yes_no(value: Any) -> str:
    return "" if value is None else _("yes") if value else _("no")


def _local_seconds(value: str | datetime | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return local(moment, SECONDS)


def _label(table: Mapping[str, str]) -> Callable[[Any], str]:
    return lambda code: "" if code in (None, "") else labels.label(table, code)


def _incident_columns() -> list[tuple[str, str]]:
    return [
        ("number", _("Number")),
        ("title", _("Title")),
        ("system", _("System")),
        ("type", _("Type")),
        ("level", _("Level")),
        ("impact", _("Impact")),
        ("urgency", _("Urgency")),
        ("emergency", _("Emergency")),
        ("status", _("Status")),
        ("source", _("Source")),
        ("requester_name", _("Requester")),
        ("registered_at", _("Registered")),
        ("due_at", _("Deadline")),
        ("breached", _("Breached")),
        ("resolved_at", _("Resolved")),
        ("resolved_in_time", _("Resolved in time")),
        ("closed_at", _("Closed")),
        ("closure_code", _("Closure code")),
        ("reopen_count", _("Reopened")),
        ("change_reference", _("Change reference")),
        ("process_version", _("Process version")),
    ]


def _incident_formatters() -> dict[str, Callable[[Any], str]]:
    return {
        "type": _label(labels.TYPES),
        "level": _label(labels.LEVELS),
        "impact": _label(labels.IMPACTS),
        "urgency": _label(labels.URGENCIES),
        "status": _label(labels.STATUSES),
        "source": _label(labels.SOURCES),
        "closure_code": _label(labels.CLOSURE_CODES),
        "emergency": _yes_no,
        "breached": _yes_no,
        "resolved_in_time": _yes_no,
        "registered_at": _local_seconds,
        "due_at": _local_seconds,
        "resolved_at": _local_seconds,
        "closed_at": _local_seconds,
    }


def _matching_records() -> tuple[AuditFilter, list[dict[str, Any]]]:
    filters, _errors = read_filter(request.args)
    with _db().read() as session:
        versions = _versions(session)
        rows = session.scalars(search_query(filters))
        records = [audit_export.incident_record(row, versions.get(row.process_version_id)) for row in rows]
    return filters, records


def _download(text: str, mimetype: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp() -> str:
    return local(datetime.now(zone()), "%Y%m%d-%H%M%S")


@bp.route("/export.csv")
@roles_required(AUDITOR)
def export_csv():
    _filters, records = _matching_records()
    text = audit_export.to_csv(records, _incident_columns(), _incident_formatters())
    return _download(text, "text/csv; charset=utf-8", f"incidents-{_stamp()}.csv")


@bp.route("/export.json")
@roles_required(AUDITOR)
def export_json():
    filters, records = _matching_records()
    document = {
        "exported_at": datetime.now(zone()).isoformat(),
        "filters": filters.args(),
        "count": len(records),
        "incidents": records,
    }
    return _download(audit_export.to_json(document), "application/json", f"incidents-{_stamp()}.json")


# ============================================================================================ history


@dataclass
class Detail:
    """One line of what an event changed or recorded: `label: before → after`, or `label: text`."""

    label: str
    text: str = ""
    before: str | None = None
    after: str | None = None
    changed: bool = True

    @property
    def is_change(self) -> bool:
        return self.before is not None or self.after is not None

    def plain(self) -> str:
        value = f"{self.before} → {self.after}" if self.is_change else self.text
        return f"{self.label}: {value}" if self.label else value


@dataclass
class Entry:
    event: AuditEvent
    data: dict[str, Any]
    roles: str
    details: list[Detail] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    timer: bool = False
    verified: str = "yes"  # yes / broken (this row) / after (after the broken row: not checked)


def _value(value: Any, names: Mapping[str, str] | None = None) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_value(item, names) for item in value)
    if isinstance(value, dict):
        return audit.canonical_json(value)
    if names and str(value) in names:
        return content(names[str(value)])
    return str(value)


def _when(value: Any) -> str:
    return _local_seconds(value) if isinstance(value, str) and value else "—"


class Describer:
    """Turns each event's data into readable details: form titles and choice names from the
    version's forms, people from their ids, codes from the label tables."""

    def __init__(self, model: Any, users: Mapping[int, str]):
        self.model, self.users = model, users
        forms = getattr(model, "forms", None) or {}
        self.schemas = [schema for name, schema in sorted(forms.items()) if name.endswith(".schema.json")]
        self.facts_schema = forms.get("update_facts.schema.json") or _facts_schema()

    def form_schema(self, spec_id: str | None) -> Mapping[str, Any] | None:
        try:
            return self.model.form(spec_id)[0] if self.model is not None and spec_id else None
        except (KeyError, AttributeError):
            return None

    def person(self, user_id: int | None) -> str:
        if user_id is None:
            return "—"
        return self.users.get(user_id) or _("user #%(id)s", id=user_id)

    def choice_names(self, path: tuple[str, ...]) -> dict[str, str]:
        """The names of a field's choices in any form of the version: a value written by an earlier
        task's form (say first line's `next_stage`) is named even where this task's form lacks it."""
        names: dict[str, str] = {}
        for schema in self.schemas:
            for value, name in audit_export.schema_field(schema, path)[1].items():
                names.setdefault(value, name)
        return names

    def leaves(self, leaves, schema) -> list[Detail]:
        details = []
        for path, before, after in leaves:
            title, names = audit_export.schema_field(schema, path)
            names = {**self.choice_names(path), **names}
            label = content(title) if title else ".".join(path)
            details.append(Detail(label, before=_value(before, names), after=_value(after, names)))
        return details

    def facts(self, facts: Mapping[str, Any]) -> list[Detail]:
        details = []
        for key, value in facts.items():
            title, names = audit_export.schema_field(self.facts_schema, ("update", key))
            label = content(title) if title else _("Fault notification late (rule E1)") if key == LATE else key
            details.append(Detail(label, text=_value(value, names)))
        return details

    def assessment_change(self, key: str, before: Any, after: Any) -> Detail:
        formats: dict[str, Callable[[Any], str]] = {
            "level": lambda v: labels.label(labels.LEVELS, v),
            "impact": lambda v: labels.label(labels.IMPACTS, v),
            "urgency": lambda v: labels.label(labels.URGENCIES, v),
            "emergency": _value,
            "due_at": _when,
        }
        titles = {
            "level": _("Level"),
            "impact": _("Impact"),
            "urgency": _("Urgency"),
            "emergency": _("Emergency"),
            "due_at": _("Deadline"),
        }
        show = formats[key]
        return Detail(titles[key], before=show(before), after=show(after), changed=before != after)

    def assessment(self, assessment: Mapping[str, Any]) -> list[Detail]:
        return [
            Detail(_("Level"), text=labels.label(labels.LEVELS, assessment.get("level"))),
            Detail(_("Impact"), text=labels.label(labels.IMPACTS, assessment.get("impact"))),
            Detail(_("Urgency"), text=labels.label(labels.URGENCIES, assessment.get("urgency"))),
            Detail(_("Emergency"), text=_value(bool(assessment.get("emergency")))),
            Detail(_("Deadline"), text=_when(assessment.get("due_at"))),
            *(
                [Detail(_("Fault notification due"), text=_when(assessment["notify_by"]))]
                if assessment.get("notify_by")
                else []
            ),
            *(
                [Detail(_("Escalation rules applied"), text=", ".join(assessment["escalations"]))]
                if assessment.get("escalations")
                else []
            ),
        ]

    def describe(self, event: AuditEvent, data: Mapping[str, Any]) -> tuple[list[Detail], list[str]]:
        kind = event.kind
        if kind == "task_completed":
            leaves = audit_export.task_changes(data.get("changes") or {})
            details = self.leaves(leaves, self.form_schema(data.get("spec_id")))
            return details or [Detail("", text=_("No data changed."))], []
        if kind == "classified":
            assessment = data.get("assessment") or {}
            return self.assessment(assessment), list(assessment.get("reasons") or [])
        if kind == "reclassified":
            before, after = data.get("before") or {}, data.get("after") or {}
            details = [Detail(_("Rules"), text=", ".join(data.get("rules") or []) or _("none new"))]
            details += [self.assessment_change(key, before.get(key), after.get(key)) for key in ASSESSMENT_KEYS]
            if data.get("source"):
                details.append(Detail(_("Source"), text=_source(data["source"])))
            if data.get("note"):
                details.append(Detail(_("Note"), text=str(data["note"])))
            details += self.facts(data.get("changes") or {})
            return details, list((data.get("assessment") or {}).get("reasons") or [])
        if kind in ASSIGNMENT_KINDS:
            return [
                Detail(_("Assignee"), before=self.person(data.get("before")), after=self.person(data.get("after")))
            ], []
        return self.other(kind, data), []

    def other(self, kind: str, data: Mapping[str, Any]) -> list[Detail]:
        if kind == "started":
            details = [Detail(_("Process version"), text=str(data.get("process_version", "—")))]
            if data.get("parent_id"):
                details.append(Detail(_("Follows up"), text=f"INC{data['parent_id']:06d}"))
            if (data.get("incident") or {}).get("title"):
                details.append(Detail(_("Title"), text=data["incident"]["title"]))
            return details
        if kind == "dispatched":
            text = labels.label(labels.STAGES, data.get("stage"))
            if data.get("group"):
                text += " · " + labels.label(labels.GROUPS, data["group"])
            return [Detail(_("Handed to"), text=text)]
        if kind in ("deadline_warning", "deadline_breach"):
            return [
                Detail(_("Deadline"), text=_when(data.get("due_at"))),
                Detail(_("Level"), text=labels.label(labels.LEVELS, data.get("level"))),
            ]
        if kind == "notification_overdue":
            return [Detail("", text=_("The fault notification window passed (rule E1)."))]
        if kind == "resolved":
            return [
                Detail(_("Solution"), text=labels.label(labels.CLOSURE_CODES, data.get("kind"))),
                Detail(_("Stage"), text=labels.label(labels.STAGES, data.get("stage"))),
                Detail(_("Details"), text=str(data.get("text") or "—")),
            ]
        if kind == "closed":
            return [Detail(_("Closure code"), text=labels.label(labels.CLOSURE_CODES, data.get("code")))]
        if kind == "transferred":
            return [Detail(labels.label(labels.CHANGE_KINDS, data.get("kind")), text=str(data.get("reference")))]
        if kind == "facts_added":
            details = self.facts(data.get("facts") or {})
            return details + ([Detail(_("Note"), text=data["note"])] if data.get("note") else [])
        if kind in ("reopened", "forwarded_for_tracking"):
            text = data.get("reason") or data.get("note")
            return [Detail(_("Reason") if kind == "reopened" else _("Note"), text=text)] if text else []
        if kind == "announced":
            return [Detail(_("Announcement"), text=str(data.get("text") or ""))]
        if kind in ("follow_up_requested", "problem_ticket_requested"):
            return [Detail(_("Title"), text=str(data.get("title") or "—"))]
        if kind == "engine_error":
            return [Detail(_("Error"), text=str(data.get("error") or ""))]
        return [Detail(key, text=_value(value)) for key, value in data.items()]


def _source(code: str) -> str:
    """Who asked for a re-classification (`case_updated` payload `source`)."""
    if code == "handler":
        return _("facts added by a handler")
    if code == "E1":
        return _("rule E1: the fault notification was late")
    return code


def _facts_schema() -> Mapping[str, Any] | None:
    try:
        return json.loads(read_form_files()["update_facts.schema.json"])
    except (KeyError, ValueError, OSError):
        return None


def _model(version: ProcessVersion) -> Any:
    try:
        return current_app.extensions["incidents"].models.get(version)
    except Exception:  # a version this code can no longer parse: labels fall back to the raw keys
        current_app.logger.exception("process version %s could not be loaded", version.id)
        return None


def _user_ids(events: list[AuditEvent], datas: list[dict[str, Any]]) -> set[int]:
    ids = {event.actor_id for event in events if event.actor_id is not None}
    for event, data in zip(events, datas, strict=True):
        if event.kind in ASSIGNMENT_KINDS:
            ids.update(value for value in (data.get("before"), data.get("after")) if isinstance(value, int))
    return ids


def _roles(role_text: str) -> str:
    return ", ".join(labels.label(labels.ROLES, role) for role in role_text.split(",") if role)


@dataclass
class History:
    view: queries.IncidentView
    entries: list[Entry]
    records: list[dict[str, Any]]
    open_spec_ids: list[str]
    integrity: Integrity


def load_history(session: Session, incident_id: int) -> History | None:
    incident = session.scalar(select(Incident).where(Incident.id == incident_id).options(defer(Incident.workflow)))
    if incident is None:
        return None
    events = audit.events_of(session, incident_id)
    tasks = list(
        session.scalars(
            select(OpenTask)
            .where(OpenTask.incident_id == incident_id)
            .options(joinedload(OpenTask.assignee))
            .order_by(OpenTask.created_at)
        )
    )
    datas = [audit.data_of(event) for event in events]
    ids = _user_ids(events, datas)
    users = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    assessment = next(
        (data["assessment"] for event, data in zip(reversed(events), reversed(datas), strict=True)
         if event.kind in ("classified", "reclassified") and "assessment" in data),
        None,
    )  # fmt: skip
    view = queries.IncidentView(
        incident=incident,
        assessment=assessment,
        open_tasks=tasks,
        timeline=events,
        announcements=_of(session, Announcement, incident_id, Announcement.published_at.desc()),
        problem_tickets=_of(session, ProblemTicket, incident_id, ProblemTicket.id),
        parent=_incident(session, incident.parent_id),
        follow_ups=list(
            session.scalars(select(Incident).where(Incident.parent_id == incident_id).options(defer(Incident.workflow)))
        ),
        requester=session.get(User, incident.requester_id) if incident.requester_id else None,
    )
    check = integrity(session)
    describer = Describer(_model(incident.process_version), users)
    entries = []
    for event, data in zip(events, datas, strict=True):
        details, reasons = describer.describe(event, data)
        verified = "yes"
        if not check.ok and check.broken_at is not None:
            verified = "broken" if event.id == check.broken_at else "after" if event.id > check.broken_at else "yes"
        entries.append(
            Entry(event, data, _roles(event.actor_role), details, reasons, event.kind in TIMER_KINDS, verified)
        )
    return History(
        view=view,
        entries=entries,
        records=[audit_export.history_record(event) for event in events],
        open_spec_ids=[task.spec_id for task in tasks],
        integrity=check,
    )


def _of(session: Session, model: Any, incident_id: int, order: Any) -> list[Any]:
    return list(session.scalars(select(model).where(model.incident_id == incident_id).order_by(order)))


def _incident(session: Session, incident_id: int | None) -> Incident | None:
    if incident_id is None:
        return None
    query = select(Incident).where(Incident.id == incident_id).options(defer(Incident.workflow))
    return session.scalar(query)


def _history_or_404(incident_id: int) -> History:
    with _db().read() as session:
        history = load_history(session, incident_id)  # the version (with its diagram) is joined in
    if history is None:
        abort(404)
    return history


@bp.route("/incidents/<int:incident_id>")
@roles_required(AUDITOR)
def history(incident_id: int):
    found = _history_or_404(incident_id)
    version = found.view.incident.process_version
    replay = {
        "xml": version.bpmn_xml,
        "markers": audit_export.replay_markers(found.records, found.open_spec_ids),
        "counts": audit_export.replay_counts(found.records),
        "texts": {
            "count": _("passed %(count)s times", count="{count}"),
            "error": _("The diagram could not be drawn."),
        },
    }
    return render_template("audit/history.html", history=found, version=version, replay=replay)


def _history_columns() -> list[tuple[str, str]]:
    return [
        ("id", _("Row")),
        ("at", _("Time")),
        ("actor_name", _("Actor")),
        ("actor_id", _("Actor id")),
        ("roles", _("Role")),
        ("event", _("Event")),
        ("kind", _("Event code")),
        ("task", _("Task")),
        ("details", _("What changed")),
        ("data_canonical", _("Data")),
        ("prev_hash", _("Previous hash")),
        ("hash", _("Hash")),
    ]


@bp.route("/incidents/<int:incident_id>/history.csv")
@roles_required(AUDITOR)
def history_csv(incident_id: int):
    found = _history_or_404(incident_id)
    rows = []
    for entry, record in zip(found.entries, found.records, strict=True):
        lines = [detail.plain() for detail in entry.details] + entry.reasons
        rows.append(
            {
                **record,
                "at": local(entry.event.at, SECONDS),
                "roles": entry.roles,
                "event": labels.label(labels.EVENTS, entry.event.kind),
                "task": content(entry.event.task_name),
                "details": "\n".join(lines),
            }
        )
    text = audit_export.to_csv(rows, _history_columns())
    return _download(text, "text/csv; charset=utf-8", f"{found.view.incident.number}-history.csv")


@bp.route("/incidents/<int:incident_id>/history.json")
@roles_required(AUDITOR)
def history_json(incident_id: int):
    found = _history_or_404(incident_id)
    incident, version = found.view.incident, found.view.incident.process_version
    check = found.integrity
    document = {
        "exported_at": datetime.now(zone()).isoformat(),
        "incident": audit_export.incident_record(incident, version.version),
        "process_version": {
            "process_id": version.process_id,
            "version": version.version,
            "content_hash": version.content_hash,
        },
        "chain": {
            "verified": check.ok,
            "rows_checked": check.checked,
            "broken_at": check.broken_at,
            "reason": check.raw_reason,
        },
        "hash_recipe": audit_export.HASH_RECIPE,
        "events": found.records,
    }
    return _download(audit_export.to_json(document), "application/json", f"{incident.number}-history.json")
