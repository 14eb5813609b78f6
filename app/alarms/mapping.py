"""From what monitoring sends to what the process needs: pure functions over plain data.

Two formats come in: Prometheus Alertmanager's webhook (version 4) and a generic alarm JSON. Both
become `Received` alarms; a firing one becomes the registration form's answers (`registration`):
type fault, source monitoring, the facts its labels carry (a label named like a fact of the form,
its value read as that fact's type), and `FACT_DEFAULTS` for what a fault must have and no label says.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FIRING, RESOLVED = "firing", "resolved"
MONITORING = "monitoring"  # the registration form's source 系统告警/监控
FAULT = "fault"
# What a fault must state and an alarm's labels may not: the category "other" and core business
# impact "unknown" (不确定: the incident manager's console lists it until a handler answers).
FACT_DEFAULTS = {"fault_category": "other", "core_business_impact": "unknown"}
SYSTEM_LABELS = ("system", "service", "app", "job", "instance")  # the first present names the system
TITLE_LIMIT, SUMMARY_LIMIT, DESCRIPTION_LIMIT = 200, 400, 4000
ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's "not ended"


@dataclass(frozen=True)
class Received:
    format: str
    source: str
    fingerprint: str
    status: str
    summary: str
    system: str | None = None
    severity: str | None = None
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def lock_key(self) -> str:
        """Alarms that must not be decided at the same time: one system's (storms), else one fingerprint's."""
        return f"system:{self.system}" if self.system else f"fingerprint:{self.fingerprint}"


def moment(text: str | None) -> datetime | None:
    """An RFC 3339 time as monitoring sends it; None for none, Alertmanager's zero time, or nonsense."""
    if not text or text.startswith("0001-01-01"):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint of an alarm that sends none: its labels, in order."""
    return hashlib.sha256(json.dumps(sorted(labels.items()), ensure_ascii=False).encode()).hexdigest()[:32]


def _system(labels: Mapping[str, str]) -> str | None:
    return next((str(labels[name]) for name in SYSTEM_LABELS if labels.get(name)), None)


def from_alertmanager(payload: Mapping[str, Any]) -> list[Received]:
    """Alertmanager webhook version 4: one `Received` per alert of the group."""
    common_labels = payload.get("commonLabels") or {}
    common_annotations = payload.get("commonAnnotations") or {}
    source = str(payload.get("receiver") or "alertmanager")
    alarms = []
    for alert in payload.get("alerts") or []:
        labels = {**common_labels, **(alert.get("labels") or {})}
        annotations = {**common_annotations, **(alert.get("annotations") or {})}
        alarms.append(
            Received(
                format="alertmanager",
                source=source,
                fingerprint=str(alert.get("fingerprint") or label_fingerprint(labels)),
                status=RESOLVED if alert.get("status") == RESOLVED else FIRING,
                summary=str(annotations.get("summary") or labels.get("alertname") or "alarm"),
                system=_system(labels),
                severity=labels.get("severity"),
                description=str(annotations.get("description") or ""),
                starts_at=moment(alert.get("startsAt")),
                ends_at=moment(alert.get("endsAt")),
                labels=labels,
                annotations=annotations,
            )
        )
    return alarms


def from_generic(payload: Mapping[str, Any]) -> Received:
    labels = dict(payload.get("labels") or {})
    return Received(
        format="generic",
        source=str(payload["source"]),
        fingerprint=str(payload.get("fingerprint") or label_fingerprint({**labels, "summary": payload["summary"]})),
        status=payload.get("status") or FIRING,
        summary=str(payload["summary"]),
        system=payload.get("system") or _system(labels),
        severity=payload.get("severity"),
        description=str(payload.get("description") or ""),
        starts_at=payload.get("starts_at"),
        ends_at=payload.get("ends_at"),
        labels=labels,
    )


def facts_from_labels(facts_schema: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """The facts the labels carry: a label named like a fact of the form, with a value of its type
    (and among its choices); anything else is left out, never guessed."""
    facts: dict[str, Any] = {}
    for name, prop in (facts_schema.get("properties") or {}).items():
        if name in labels:
            value = _typed(prop, str(labels[name]).strip())
            if value is not None and ("enum" not in prop or value in prop["enum"]):
                facts[name] = value
    return facts


def _typed(prop: Mapping[str, Any], text: str) -> Any:
    kind = prop.get("type")
    try:
        if kind == "integer":
            value: Any = int(text)
        elif kind == "number":
            value = float(text)
        elif kind == "boolean":
            value = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}.get(text.lower())
        else:
            value = text
    except ValueError:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value < prop.get("minimum", value):
        return None
    return value


def registration(alarm: Received, facts_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The registration form's answers for an incident this alarm opens."""
    facts = {**facts_from_labels(facts_schema, alarm.labels), "type": FAULT}
    for name, value in FACT_DEFAULTS.items():
        if name in (facts_schema.get("properties") or {}):
            facts.setdefault(name, value)
    lines = [alarm.description] if alarm.description else []
    severity = f"；级别：{alarm.severity}" if alarm.severity else ""
    lines.append(f"告警来源：{alarm.source}；指纹：{alarm.fingerprint}{severity}")
    lines += [f"{key}={value}" for key, value in sorted(alarm.labels.items())]
    incident: dict[str, Any] = {
        "title": alarm.summary[:TITLE_LIMIT],
        "description": "\n".join(lines)[:DESCRIPTION_LIMIT],
        "source": MONITORING,
    }
    if alarm.system:
        incident["system"] = alarm.system[:TITLE_LIMIT]
    if alarm.starts_at:
        incident["occurred_at"] = alarm.starts_at.isoformat()
    return {"incident": incident, "facts": facts, "on_spot": {"solved": False}}


def recovery_note(alarm: Received) -> str:
    """The work note a cleared alarm leaves on its incident (which stays open)."""
    ended = f"，结束于 {alarm.ends_at.isoformat()}" if alarm.ends_at else ""
    where = f"{alarm.source}，指纹 {alarm.fingerprint}{ended}"
    return f"监控告警已恢复：{alarm.summary}（{where}）。请确认业务已恢复后再处理事件。"
