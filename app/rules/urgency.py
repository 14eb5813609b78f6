"""Urgency (紧急度): appendix 3 — spec §4.4; emergency (紧急事件): §5.8 【注】 — spec §4.5."""

from __future__ import annotations

from collections.abc import Callable

from app.rules.facts import CoreBusinessImpact, Facts
from app.rules.levels import RankedStrEnum


class Urgency(RankedStrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return _URGENCY_LABELS[self]


_URGENCY_LABELS = {Urgency.LOW: "低", Urgency.MEDIUM: "中", Urgency.HIGH: "高"}

MANY_COMPLAINTS = 50  # "大量（>50单）", strictly more


def core_business_affected(f: Facts) -> bool:
    """Core business affected or at risk: answered yes, or a voice/data/SMS interruption (which *is*
    core business affected, whatever was answered — decision 14)."""
    return f.core_business_affected or f.core_business_impact is CoreBusinessImpact.YES


def core_impact_unconfirmed(f: Facts) -> bool:
    """ "不确定" was answered and nothing else shows core business affected: the incident manager
    should confirm it (a note in their console)."""
    unknown = f.core_business_impact is CoreBusinessImpact.UNKNOWN
    return unknown and not core_business_affected(f) and not (f.core_interruption_minutes or 0) > 0


URGENCY_RULES: tuple[tuple[Urgency, str, Callable[[Facts], bool]], ...] = (
    (Urgency.HIGH, "客户或重要干系人明确要求紧急处理", lambda f: f.urgent_requested),
    (Urgency.HIGH, "核心业务受影响或可能受影响", core_business_affected),
    # A voice/data/SMS interruption is core business affected, whether or not it was answered so.
    (Urgency.HIGH, "关键业务（语音/数据/短信）中断", lambda f: (f.core_interruption_minutes or 0) > 0),
    (Urgency.HIGH, f"投诉 > {MANY_COMPLAINTS} 单", lambda f: (f.complaints or 0) > MANY_COMPLAINTS),
    # "可能引起大量投诉": complaints that may come count like those that came (urgency only, never level).
    (Urgency.HIGH, f"预计引起大量投诉（> {MANY_COMPLAINTS} 单）", lambda f: f.complaint_surge_expected),
    (Urgency.MEDIUM, "核心业务是否受影响尚不确定（待事件经理确认）", core_impact_unconfirmed),
    (Urgency.MEDIUM, "非核心业务受影响或可能受影响", lambda f: f.non_core_business_affected),
    (Urgency.MEDIUM, "有用户投诉（≥ 1 单）", lambda f: (f.complaints or 0) >= 1),
    (Urgency.MEDIUM, "客户需求，未明确要求紧急处理", lambda f: f.customer_demand),
    # The floor: low is "不涉及业务使用" — any fact showing business use affected gives at least medium.
    (Urgency.MEDIUM, "涉及业务使用：影响用户数 > 0", lambda f: (f.affected_users or 0) > 0),
    (Urgency.MEDIUM, "涉及业务使用：系统切离线 > 0", lambda f: (f.offline_hours or 0) > 0),
    (Urgency.MEDIUM, "涉及业务使用：出账延迟 > 0", lambda f: (f.billing_delay_hours or 0) > 0),
)


LOW_REASON = "紧急度低：不涉及业务使用，也不涉及用户投诉"


def urgency(facts: Facts) -> tuple[Urgency, tuple[str, ...]]:
    """The highest urgency any rule gives, with every rule that holds at that urgency."""
    for level in (Urgency.HIGH, Urgency.MEDIUM):
        held = [text for rule_level, text, test in URGENCY_RULES if rule_level is level and test(facts)]
        if held:
            return level, tuple(f"紧急度{level.label}：{text}" for text in held)
    return Urgency.LOW, (LOW_REASON,)


def emergency(level: Urgency, facts: Facts) -> tuple[bool, tuple[str, ...]]:
    """Emergency when urgency is high or the incident manager designates it."""
    reasons = []
    if level is Urgency.HIGH:
        reasons.append("紧急事件：紧急度高")
    if facts.designated_emergency:
        reasons.append("紧急事件：事件经理认定")
    return bool(reasons), tuple(reasons)
