"""The API's request and response models (pydantic): the OpenAPI document is generated from them.

Bodies that a process form defines (registration, a task's answers, added facts) are free-form
objects here and are checked against the form's own JSON Schema by the incident service — the very
check the web form gets — so a process owner's change to a form needs no change to the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.alarms.recovery import NOTE_LIMIT
from app.incidents.projection import STATUSES
from app.reports.filters import LEVEL_ORDER, TYPE_ORDER
from app.web.inputs import MAX_ID

Id = Field(ge=1, le=MAX_ID)
Status = Literal[STATUSES]  # type: ignore[valid-type]
IncidentType = Literal[tuple(key for key in TYPE_ORDER if key != "none")]  # type: ignore[valid-type]
Level = Literal[tuple(key for key in LEVEL_ORDER if key != "none")]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str = Field(description='Dotted path of the field ("incident.title"); "" for the whole request.')
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class TokenOut(BaseModel):
    """The token a call is made with, and the account it acts as."""

    name: str
    prefix: str = Field(description="Its first characters, as the token page lists it")
    scopes: list[str]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    username: str
    display_name: str
    roles: list[str]


# ------------------------------------------------------------------------------------------ incidents


class IncidentCreate(BaseModel):
    """The registration form's answers (`incident`, `facts`, … as GET /incidents/form describes),
    plus `requester_id`. A service-desk account registers the incident in the same step; a requester
    account raises it for themself (the portal's fields: title, description, system, contact)."""

    model_config = ConfigDict(extra="allow")
    requester_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class IncidentQuery(Strict):
    q: str | None = Field(default=None, max_length=200, description="Words of the title or system, or a number")
    status: Status | None = None
    type: IncidentType | None = None
    level: Level | None = None
    emergency: bool | None = None
    breached: bool | None = None
    ops_ticket: str | None = Field(
        default=None, min_length=1, max_length=100, description="This platform ticket exactly"
    )
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200, description="`next_cursor` of the previous page")


class IncidentSummary(BaseModel):
    id: int
    number: str
    title: str
    status: str
    type: str | None = None
    level: str | None = None
    emergency: bool | None = None
    system: str | None = None
    created_at: datetime
    due_at: datetime | None = None
    breached: bool | None = None
    resolved_at: datetime | None = None
    ops_ticket: str | None = Field(default=None, description="xxxIT平台工单号: the operations platform's ticket")


class IncidentPage(BaseModel):
    items: list[IncidentSummary]
    next_cursor: str | None = None


class AnswerOut(BaseModel):
    path: str
    label: str
    value: Any = None
    text: str


class SectionOut(BaseModel):
    variable: str
    title: str
    answers: list[AnswerOut]


class GivenOut(BaseModel):
    name: str | None = None
    at: datetime


class FactOut(BaseModel):
    answer: AnswerOut
    given: GivenOut


class TaskOut(BaseModel):
    kind: Literal["task", "recovery_check"] = Field(
        description="`task`: a step of the process (form, claim, release, complete under /tasks/{incident}/{id});"
        " `recovery_check`: confirm that the service is back after a cleared alarm, beside the process"
        " (POST /recovery-checks/{id}/confirm)"
    )
    id: str
    incident_id: int
    spec_id: str | None = Field(default=None, description="The task's element in the diagram (none for a check)")
    name: str
    lane: str | None = Field(default=None, description="The task's lane in the diagram (none for a check)")
    candidate_role: str | None = None
    assignee: str | None = None
    due_at: datetime | None = None
    created_at: datetime
    may_work: bool
    alarm: str | None = Field(default=None, description="A check's cleared alarm: its summary")


class EntryOut(BaseModel):
    id: int
    at: datetime
    kind: str
    category: str
    author: str | None = None
    author_role: str | None = None
    task_name: str | None = None
    text: str | None = None
    sections: list[SectionOut] = Field(default_factory=list)
    facts: list[AnswerOut] = Field(default_factory=list)


class AnnouncementOut(BaseModel):
    text: str
    published_at: datetime
    published_by: str | None = None


class LinkRef(BaseModel):
    kind: str
    incident: IncidentSummary


class LinksOut(BaseModel):
    """Related incidents (app/links): the major incident it is part of, its children, and the links
    it makes (duplicate_of, caused_by, related_to) and receives."""

    parent: IncidentSummary | None = None
    children: list[IncidentSummary] = Field(default_factory=list)
    outgoing: list[LinkRef] = Field(default_factory=list)
    incoming: list[LinkRef] = Field(default_factory=list)


class LinkIn(Strict):
    kind: Literal["part_of", "duplicate_of", "caused_by", "related_to"] = Field(
        description="part_of: this incident is a child of the other (a major incident)"
    )
    other_id: int = Field(ge=1, le=MAX_ID, description="The other incident's id")


class IncidentOut(BaseModel):
    """The incident as the caller may read it: handlers, leadership and auditors the whole record,
    the requester their side of it (app/incidents/visibility.py)."""

    audience: Literal["internal", "requester"]
    incident: dict[str, Any]
    raised_with: SectionOut | None = None
    facts: list[FactOut] = Field(default_factory=list)
    assessment: dict[str, Any] | None = None
    solution: dict[str, Any] | None = None
    open_tasks: list[TaskOut] = Field(default_factory=list)
    announcements: list[AnnouncementOut] = Field(default_factory=list)
    timeline: list[EntryOut] = Field(default_factory=list)
    links: LinksOut | None = Field(default=None, description="Internal readers only")


class Facts(BaseModel):
    """The add-facts form's answers (forms/update_facts.schema.json): facts and a `note`."""

    model_config = ConfigDict(extra="allow")


class FactsAdded(BaseModel):
    reclassification: dict[str, Any] | None = None
    incident: IncidentOut


class NoteIn(Strict):
    kind: Literal["work_note", "comment"] = Field(
        description="work_note: internal, handlers only; comment: the requester reads it (and writes on their own)"
    )
    text: str = Field(min_length=1, max_length=4000, description="@username or @显示名 mentions a handler")


class NoteOut(BaseModel):
    id: int
    incident_id: int
    kind: str


class OpsTicket(Strict):
    ops_ticket: str | None = Field(max_length=200, description="xxxIT平台工单号; null or empty unlinks")


class ChangeDone(Strict):
    """The change an incident waits for (等待变更) is done: what was done, and the change's number."""

    note: str = Field(
        min_length=1, max_length=4000, description="What was done: the change's result or release, as on the page"
    )
    change_reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The change process's number (BUG-…, REQ-…); if sent, it must be the one the incident waits for",
    )


class FormOut(BaseModel):
    json_schema: dict[str, Any] = Field(description="The form's JSON Schema (2020-12): what a body must satisfy")
    ui_schema: dict[str, Any] = Field(description="Labels, order and widgets, as the web form draws it")
    data: dict[str, Any] = Field(default_factory=dict, description="The answers the form starts from")


# ------------------------------------------------------------------------------------------ tasks


class TaskQuery(Strict):
    mine: bool = Field(default=False, description="Only the tasks assigned to me (not those I could claim)")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=300, description="`next_cursor` of the previous page")


class TaskList(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None = None


class RecoveryConfirmation(Strict):
    note: str = Field(default="", max_length=NOTE_LIMIT, description="What was checked (optional)")


class Answers(BaseModel):
    """The task form's answers, as its JSON Schema (GET …/form) describes them."""

    model_config = ConfigDict(extra="allow")


class Done(BaseModel):
    ok: bool = True
    incident_id: int


class Completed(Done):
    open_tasks: list[TaskOut] = Field(
        description="The incident's open tasks after this step, as the caller reads the incident (the requester"
        " their own): what is next — `id` to complete, `spec_id`, `candidate_role`, `may_work` — without a second"
        " call. Empty when no step is open to the caller (the process ended, or it waits)."
    )


# ------------------------------------------------------------------------------------------ reports


class ReportQuery(Strict):
    from_: str | None = Field(default=None, alias="from", max_length=10, description="First day, YYYY-MM-DD")
    to: str | None = Field(default=None, max_length=10, description="Last day, YYYY-MM-DD")
    bucket: Literal["day", "week", "month"] | None = None
    type: str | None = Field(default=None, max_length=20)
    level: str | None = Field(default=None, max_length=10)
    group: str | None = Field(default=None, max_length=40)


class ReportOut(BaseModel):
    name: str
    first_day: str
    last_day: str
    notices: list[str]
    rows: list[dict[str, Any]]


# ------------------------------------------------------------------------------------------ alarms


class GenericAlarm(Strict):
    """One alarm, from any monitoring system."""

    source: str = Field(min_length=1, max_length=100, description="The sending system, e.g. zabbix")
    fingerprint: str | None = Field(
        default=None, min_length=1, max_length=200, description="The alarm's key: the same key is the same alarm"
    )
    status: Literal["firing", "resolved"] = "firing"
    summary: str = Field(min_length=1, max_length=400)
    description: str | None = Field(default=None, max_length=4000)
    system: str | None = Field(
        default=None, max_length=200, description="The system it concerns (storms are per system)"
    )
    severity: str | None = Field(default=None, max_length=40)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    labels: dict[str, str] = Field(
        default_factory=dict, max_length=200, description="A label named like a fact of the registration form sets it"
    )


class AlertmanagerAlert(BaseModel):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict, max_length=200)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=200)
    startsAt: str | None = Field(default=None, max_length=40)  # noqa: N815 — Alertmanager's names
    endsAt: str | None = Field(default=None, max_length=40)  # noqa: N815
    generatorURL: str | None = Field(default=None, max_length=2000)  # noqa: N815
    fingerprint: str | None = Field(default=None, min_length=1, max_length=200)


class AlertmanagerWebhook(BaseModel):
    """Prometheus Alertmanager's webhook body (version 4)."""

    version: str | None = Field(default=None, max_length=10)
    groupKey: str | None = Field(default=None, max_length=2000)  # noqa: N815
    status: Literal["firing", "resolved"] | None = None
    receiver: str | None = Field(default=None, max_length=100)
    groupLabels: dict[str, str] = Field(default_factory=dict, max_length=200)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict, max_length=200)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict, max_length=200)  # noqa: N815
    externalURL: str | None = Field(default=None, max_length=2000)  # noqa: N815
    alerts: list[AlertmanagerAlert] = Field(max_length=1000)


class AlarmOutcome(BaseModel):
    alarm_id: int
    fingerprint: str
    outcome: Literal["opened", "storm_child", "attached", "resolved", "unmatched", "refused"]
    incident_id: int | None = None
    parent_incident_id: int | None = None
    detail: str | None = None


class AlarmOutcomes(BaseModel):
    results: list[AlarmOutcome]


class AlarmOut(BaseModel):
    id: int
    received_at: datetime
    received_by: str
    format: str
    source: str
    fingerprint: str
    status: str
    system: str | None = None
    severity: str | None = None
    summary: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    labels: dict[str, Any]
    outcome: str
    detail: str | None = None
    incident_id: int | None = None
    parent_incident_id: int | None = None


class AlarmList(BaseModel):
    items: list[AlarmOut]
