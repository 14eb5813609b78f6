"""The whole appendix for one incident: `classify` at registration, `reclassify` during handling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.rules.escalation import escalate, rule_sorted
from app.rules.facts import Facts, FactsError, IncidentType, parse_facts
from app.rules.impact import Impact, impact_and_deadline
from app.rules.levels import Level, RankedStrEnum, fault_level, higher, level_label
from app.rules.urgency import Urgency, emergency, urgency

# Security events have no criteria of their own; the fault criteria give them a level (spec §4.3).
LEVELLED_TYPES = (IncidentType.FAULT, IncidentType.SECURITY)


@dataclass(frozen=True)
class Classification:
    type: IncidentType
    level: Level | None
    impact: Impact | None
    urgency: Urgency
    emergency: bool
    deadline_hours: int
    escalations: tuple[str, ...]  # rule ids, in rule order
    reasons: tuple[str, ...]
    criteria_level: Level | None = None  # before escalation: what E1, E3 and E4 are computed from

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": str(self.type),
            "level": _value(self.level),
            "impact": _value(self.impact),
            "urgency": str(self.urgency),
            "emergency": self.emergency,
            "deadline_hours": self.deadline_hours,
            "escalations": list(self.escalations),
            "reasons": list(self.reasons),
            "criteria_level": _value(self.criteria_level),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Classification:
        """Inverse of `to_dict` (a stored classification, trusted)."""
        return cls(
            type=IncidentType(data["type"]),
            level=None if data["level"] is None else Level(data["level"]),
            impact=None if data["impact"] is None else Impact(data["impact"]),
            urgency=Urgency(data["urgency"]),
            emergency=bool(data["emergency"]),
            deadline_hours=int(data["deadline_hours"]),
            escalations=tuple(data["escalations"]),
            reasons=tuple(data["reasons"]),
            criteria_level=_stored_criteria_level(data),
        )


def _stored_criteria_level(data: Mapping[str, Any]) -> Level | None:
    if "criteria_level" in data:
        return None if data["criteria_level"] is None else Level(data["criteria_level"])
    # stored before the criteria level was kept: the stored facts give it again
    return _base_level(parse_facts(data["facts"]))[0] if "facts" in data else None


def _value(member: RankedStrEnum | None) -> str | None:
    return None if member is None else str(member)


def _base_level(facts: Facts) -> tuple[Level | None, tuple[str, ...]]:
    if facts.type not in LEVELLED_TYPES:
        return None, ()
    level, reasons = fault_level(facts)
    return level, reasons or ("未定级：未达任何故障级别标准",)


def classify(facts: Facts, *, reached: Level | None = None) -> Classification:
    """`reached`: the level the incident already had (reclassify), which E1 counts as owing a notification."""
    base, level_reasons = _base_level(facts)
    escalation = escalate(facts, base, reached=reached)  # security events are levelled but never escalated
    impact, hours, impact_reason = impact_and_deadline(facts.type, escalation.level, escalation.complaint_severe)
    urgency_level, urgency_reasons = urgency(facts)
    is_emergency, emergency_reasons = emergency(urgency_level, facts)
    return Classification(
        type=facts.type,
        level=escalation.level,
        impact=impact,
        urgency=urgency_level,
        emergency=is_emergency,
        deadline_hours=hours,
        escalations=escalation.applied,
        reasons=(*level_reasons, *escalation.reasons, impact_reason, *urgency_reasons, *emergency_reasons),
        criteria_level=base,
    )


def reclassify(previous: Classification, facts: Facts) -> Classification:
    """Classification after facts changed during handling: it may rise, never fall (spec §4.6).

    E2 (worsening) is recorded when the new facts' criteria level is above the previous criteria
    level; every escalation is then computed from the new criteria level.
    """
    if facts.type is not previous.type:
        raise FactsError(f"type: cannot change during handling ({previous.type} → {facts.type})")
    fresh = classify(facts, reached=previous.level)
    reasons = list(fresh.reasons)
    escalations = set(previous.escalations) | set(fresh.escalations)

    base, _ = _base_level(facts)
    worsened = base is not None and (previous.criteria_level is None or base > previous.criteria_level)
    if facts.type is IncidentType.FAULT and worsened:
        escalations.add("E2")
        moved = f"{level_label(previous.criteria_level)} → {base.label}"
        reasons.append(f"E2 故障恶化：新事实达到{base.label}标准（{moved}）")

    level = higher(previous.level, fresh.level)
    if level is not fresh.level:
        reasons.append(_kept_level(previous, level))
    elif level is not previous.level:
        reasons.append(f"级别变化：{level_label(previous.level)} → {level_label(level)}")

    impact = higher(previous.impact, fresh.impact)
    if impact is not fresh.impact:
        reasons.append(f"保持影响度{impact.label}：影响度不因新事实降低")

    urgency_level = max(previous.urgency, fresh.urgency)
    if urgency_level is not fresh.urgency:
        reasons.append(f"保持紧急度{urgency_level.label}：紧急度不因新事实降低")

    if previous.emergency and not fresh.emergency:
        reasons.append("保持紧急事件：紧急事件认定不因新事实撤销")

    hours = min(previous.deadline_hours, fresh.deadline_hours)
    if hours != fresh.deadline_hours:
        reasons.append(f"保持处理期限 {hours} 小时：期限不因新事实放宽")
    elif hours != previous.deadline_hours:
        reasons.append(f"处理期限变化：{previous.deadline_hours} → {hours} 小时")

    return Classification(
        type=previous.type,
        level=level,
        impact=impact,
        urgency=urgency_level,
        emergency=previous.emergency or fresh.emergency,
        deadline_hours=hours,
        escalations=rule_sorted(escalations),
        reasons=tuple(reasons),
        criteria_level=fresh.criteria_level,
    )


def _kept_level(previous: Classification, level: Level) -> str:
    """Why a level stays although the new facts give a lower one: the criteria that set it before
    stay named, so nobody reads a red incident without its red criterion."""
    kept = f"保持{level.label}："
    carried = next((reason for reason in previous.reasons if reason.startswith(kept)), None)
    if carried is not None:  # kept before already: its grounds are named in it
        return carried
    grounds = [
        r for r in previous.reasons if r.startswith(f"{level.label}：") or (r[:1] == "E" and f"→ {level.label}" in r)
    ]
    named = f"（此前依据：{'；'.join(grounds)}）" if grounds else ""
    return f"{kept}级别不因新事实降低{named}"
