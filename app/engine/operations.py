"""The service operations a BPMN service task may call (spiffworkflow:serviceTaskOperator id).

Each operation takes the evaluated parameters of its service task and returns plain JSON data that
the engine stores in the task's result variable. Operations never touch the database: what the
rest of the system must learn (an escalation, a deadline breach, a problem ticket to create) is
emitted as an `Event` that the incident service turns into audit rows and side effects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app import rules
from app.engine.lanes import SECOND_LINE_GROUPS

# A timer that must not fire: SpiffWorkflow needs a date, so an already-notified deadline gets this one.
NEVER = "9999-12-31T00:00:00+00:00"

STAGES = ("initial_support", "first_line", "second_line", "incident_manager")


class OperationError(ValueError):
    """The parameters a service task passed make no sense (a modelling or data error)."""


@dataclass(frozen=True)
class Settings:
    warning_ratio: float = rules.WARNING_RATIO
    notification_window_minutes: float = rules.NOTIFICATION_WINDOW_MINUTES
    registration_target_minutes: float = rules.REGISTRATION_TARGET_MINUTES
    confirmation_working_days: int = rules.CONFIRMATION_WORKING_DAYS
    timezone: str = "Asia/Shanghai"  # where working days are counted


@dataclass(frozen=True)
class Event:
    kind: str
    data: Mapping[str, Any]


@dataclass
class Context:
    """What an operation may know besides its parameters: the clock, the settings, where to report."""

    now: datetime
    settings: Settings = field(default_factory=Settings)
    events: list[Event] = field(default_factory=list)
    raised_at: datetime | None = None  # when the incident was raised (portal submission); `now` if not given

    def emit(self, kind: str, /, **data: Any) -> None:
        self.events.append(Event(kind, data))


@dataclass(frozen=True)
class Operation:
    name: str
    params: tuple[str, ...]
    run: Callable[..., Any]
    summary: str


def iso(moment: datetime) -> str:
    return moment.isoformat()


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _deadline_times(
    classification: rules.Classification, raised_at: datetime, ctx: Context, notify_from: datetime | None = None
) -> dict:
    return rules.deadline_times(
        classification,
        raised_at,
        notify_from=notify_from,
        warning_ratio=ctx.settings.warning_ratio,
        notification_window_minutes=ctx.settings.notification_window_minutes,
    )


def _assessment(
    classification: rules.Classification,
    facts: rules.Facts,
    registered_at: datetime,
    raised_at: datetime,
    times: Mapping[str, datetime | None],
    *,
    notify_by: str | None,
    revision: int,
    paused_seconds: float = 0,
    became_emergency: bool,
    notification_newly_required: bool,
) -> dict[str, Any]:
    return {
        **classification.to_dict(),
        "facts": facts.to_dict(),
        "registered_at": iso(registered_at),
        "raised_at": iso(raised_at),
        "due_at": iso(times["due_at"]),
        "warn_at": iso(times["warn_at"]),
        "notify_by": notify_by,
        "revision": revision,
        "paused_seconds": paused_seconds,
        "became_emergency": became_emergency,
        "notification_newly_required": notification_newly_required,
    }


def classify(ctx: Context, facts: Mapping[str, Any]) -> dict[str, Any]:
    parsed = rules.parse_facts(facts)
    classification = rules.classify(parsed)
    # The clock runs from when the incident was raised; the notification is owed from now, when the
    # classification says yellow (docs/process-model.md, deadlines).
    raised_at = min(ctx.raised_at or ctx.now, ctx.now)
    times = _deadline_times(classification, raised_at, ctx, notify_from=ctx.now)
    assessment = _assessment(
        classification,
        parsed,
        ctx.now,
        raised_at,
        times,
        notify_by=None if times["notify_by"] is None else iso(times["notify_by"]),
        revision=1,
        became_emergency=False,
        notification_newly_required=False,
    )
    ctx.emit("classified", assessment=assessment)
    return assessment


def reclassify(ctx: Context, assessment: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Apply new facts during handling: E1–E5 and the recomputed deadline, never a downgrade."""
    previous = rules.Classification.from_dict(assessment)
    changes = {key: value for key, value in (update.get("facts") or {}).items() if value is not None}
    facts = rules.parse_facts(assessment["facts"]).merged(changes)
    classification = rules.reclassify(previous, facts)
    registered_at = parse_time(assessment["registered_at"])
    raised_at = parse_time(assessment.get("raised_at") or assessment["registered_at"])  # stored before: registration
    times = _deadline_times(classification, raised_at, ctx)
    paused = assessment.get("paused_seconds", 0)  # the clock stood still while a change was made
    times = {
        **times,
        "due_at": times["due_at"] + timedelta(seconds=paused),
        "warn_at": times["warn_at"] + timedelta(seconds=paused),
    }

    # A notification duty that arises during handling gets its full window from now (docs/process-model.md).
    notify_by = assessment["notify_by"]
    newly_required = notify_by is None and times["notify_by"] is not None
    if newly_required:
        notify_by = iso(ctx.now + timedelta(minutes=ctx.settings.notification_window_minutes))

    result = _assessment(
        classification,
        facts,
        registered_at,
        raised_at,
        times,
        notify_by=notify_by,
        revision=assessment["revision"] + 1,
        paused_seconds=paused,
        became_emergency=classification.emergency and not previous.emergency,
        notification_newly_required=newly_required,
    )
    ctx.emit(
        "reclassified",
        before={key: assessment[key] for key in ("level", "impact", "urgency", "emergency", "due_at")},
        after={key: result[key] for key in ("level", "impact", "urgency", "emergency", "due_at")},
        rules=[rule for rule in classification.escalations if rule not in previous.escalations],
        changes=changes,
        source=update.get("source"),
        note=update.get("note"),
        assessment=result,
    )
    return result


def dispatch(ctx: Context, stage: str, group: str | None) -> dict[str, Any]:
    """Hand the incident to a handling stage (and, for second line, a group)."""
    if stage not in STAGES:
        raise OperationError(f"unknown handling stage {stage!r}; expected one of {', '.join(STAGES)}")
    if stage == "second_line" and group not in SECOND_LINE_GROUPS:
        raise OperationError(f"second line needs a group ({', '.join(SECOND_LINE_GROUPS)}), got {group!r}")
    result = {"stage": stage, "group": group if stage == "second_line" else None}
    ctx.emit("dispatched", **result)
    return result


def arm_timers(ctx: Context, assessment: Mapping[str, Any], notices: Mapping[str, Any]) -> dict[str, str]:
    """Times for the warning and breach timers of the next handling step.

    The timers are re-armed at every step; a deadline the incident manager was already told about
    gets NEVER so that nobody is told twice. Deadlines only ever get earlier, so once breached the
    incident stays breached.
    """
    due_at = assessment["due_at"]
    if notices.get("breach") is not None:
        return {"warn_at": NEVER, "due_at": NEVER}
    already_due = ctx.now >= parse_time(due_at)
    warned = notices.get("warning") == due_at
    return {"warn_at": NEVER if warned or already_due else assessment["warn_at"], "due_at": due_at}


def deadline_notice(ctx: Context, kind: str, assessment: Mapping[str, Any], notices: Mapping[str, Any]) -> dict:
    """A deadline timer fired: remember for which deadline, and report it."""
    if kind not in ("warning", "breach"):
        raise OperationError(f"deadline notice kind must be 'warning' or 'breach', got {kind!r}")
    ctx.emit("deadline_" + kind, due_at=assessment["due_at"], level=assessment["level"])
    return {**notices, kind: assessment["due_at"]}


def late_notification(ctx: Context) -> dict[str, Any]:
    """The fault notification window passed (rule E1): ask for re-classification."""
    ctx.emit("notification_overdue")
    return {"facts": {"late_notification": True}, "source": "E1", "note": "故障通报超过时限"}


def record_solution(ctx: Context, kind: str, text: str, stage: str) -> dict[str, Any]:
    if kind not in ("resolved", "workaround"):
        raise OperationError(f"solution kind must be 'resolved' or 'workaround', got {kind!r}")
    if not text:
        raise OperationError("a solution needs its details")
    # the requester has this long to confirm before the service desk follows up (回访确认)
    confirm_by = rules.add_working_days(
        ctx.now, ctx.settings.confirmation_working_days, ZoneInfo(ctx.settings.timezone)
    )
    resolution = {
        "kind": kind,
        "text": text,
        "stage": stage,
        "resolved_at": iso(ctx.now),
        "confirm_by": iso(confirm_by),
    }
    ctx.emit("resolved", **resolution)
    return resolution


def confirmation_overdue(ctx: Context, resolution: Mapping[str, Any]) -> str:
    """The requester neither confirmed nor rejected the resolution in time: the service desk follows up."""
    ctx.emit("confirmation_unanswered", confirm_by=resolution.get("confirm_by"))
    return iso(ctx.now)


CLOSURE_CODES = ("resolved", "workaround", "no_reply")  # no_reply: 未回复，默认关闭


def close(ctx: Context, code: str) -> dict[str, Any]:
    if code not in CLOSURE_CODES:
        raise OperationError(f"closure code must be one of {', '.join(CLOSURE_CODES)}, got {code!r}")
    ctx.emit("closed", code=code)
    return {"code": code, "closed_at": iso(ctx.now)}


def reopen(ctx: Context, reason: str | None) -> dict[str, Any]:
    ctx.emit("reopened", reason=reason)
    return {"at": iso(ctx.now), "reason": reason}


def announce(ctx: Context, text: str) -> dict[str, Any]:
    if not text:
        raise OperationError("an announcement needs its text")
    ctx.emit("announced", text=text)
    return {"text": text, "at": iso(ctx.now)}


def change_transfer(ctx: Context, kind: str, reference: str) -> dict[str, Any]:
    if kind not in ("defect", "requirement"):
        raise OperationError(f"change kind must be 'defect' or 'requirement', got {kind!r}")
    if not reference:
        raise OperationError("a transfer needs the defect/requirement reference")
    ctx.emit("transferred", kind=kind, reference=reference)
    return {"kind": kind, "reference": reference, "at": iso(ctx.now)}


def change_returned(ctx: Context, assessment: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """The change the incident waited for is done: it goes back to the group that transferred it, and
    its deadline moves by the wait (the clock stands still while the change is made, docs/reports.md)."""
    waited = max(ctx.now - parse_time(change["at"]), timedelta(0))
    result = {
        **assessment,
        "paused_seconds": assessment.get("paused_seconds", 0) + waited.total_seconds(),
        "due_at": iso(parse_time(assessment["due_at"]) + waited),
        "warn_at": iso(parse_time(assessment["warn_at"]) + waited),
    }
    ctx.emit("change_returned", reference=change["reference"], waited_hours=round(waited / timedelta(hours=1), 2),
             assessment=result)  # fmt: skip
    return result


def follow_up_incident(ctx: Context, title: str) -> dict[str, Any]:
    ctx.emit("follow_up_requested", title=title)
    return {"title": title, "at": iso(ctx.now)}


def problem_ticket(ctx: Context, title: str) -> dict[str, Any]:
    ctx.emit("problem_ticket_requested", title=title)
    return {"title": title, "at": iso(ctx.now)}


def _operation(run: Callable[..., Any], summary: str) -> Operation:
    params = run.__code__.co_varnames[1 : run.__code__.co_argcount]  # all but the context
    return Operation(run.__name__, tuple(params), run, summary)


OPERATIONS: Mapping[str, Operation] = {
    op.name: op
    for op in (
        _operation(classify, "事件分类：故障级别、影响度、紧急度、处理期限"),
        _operation(reclassify, "重新分类与升级（E1–E5），重算处理期限"),
        _operation(dispatch, "分派处理环节（及二线小组）"),
        _operation(arm_timers, "设置期限预警/超时提醒"),
        _operation(deadline_notice, "记录期限预警或超时"),
        _operation(late_notification, "故障通报超时（E1）"),
        _operation(record_solution, "记录解决方案"),
        _operation(confirmation_overdue, "确认超时未回复：服务台回访"),
        _operation(close, "关闭事件（关闭代码）"),
        _operation(reopen, "重新打开事件"),
        _operation(announce, "发布紧急公告"),
        _operation(change_transfer, "转缺陷/需求处理流程"),
        _operation(change_returned, "变更完成，退回处理组（期限顺延等待时间）"),
        _operation(follow_up_incident, "触发后续跟踪事件"),
        _operation(problem_ticket, "生成问题单"),
    )
}


def call(name: str, params: Mapping[str, Any], ctx: Context) -> Any:
    """Run an operation with exactly its declared parameters."""
    operation = OPERATIONS.get(name)
    if operation is None:
        raise OperationError(f"unknown service operation {name!r}")
    missing = set(operation.params) - set(params)
    extra = set(params) - set(operation.params)
    if missing or extra:
        raise OperationError(
            f"operation {name!r} takes parameters {', '.join(operation.params) or '(none)'}"
            f"; got {', '.join(sorted(params)) or '(none)'}"
        )
    return operation.run(ctx, **params)
