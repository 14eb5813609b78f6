"""Escalation (升级机制): appendix 4 — spec §4.6.

E2 (worsening) needs two sets of facts and lives in `reclassify`; the others are computed here,
each from the level the fault criteria give, and the highest result wins. Escalation never lowers
a level, never goes above black, and touches faults and complaints only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from app.rules.facts import Facts, IncidentType
from app.rules.levels import Level, level_label, raise_level

RULE_ORDER = ("E1", "E2", "E3", "E4", "E5")

# Fault notification (故障通报) is only required from yellow (by any route), so only those faults can be late.
NOTIFICATION_REQUIRED_FROM = Level.YELLOW

# The fact behind each rule and the incident type it applies to.
RULES = {
    "E1": ("late_notification", IncidentType.FAULT),
    "E3": ("vp_complaint", IncidentType.FAULT),
    "E4": ("media_exposure", IncidentType.FAULT),
    "E5": ("vp_complaint", IncidentType.COMPLAINT),
}

ESCALATION_FACTS = {
    "late_notification": "未及时故障通报",
    "vp_complaint": "投诉至副总及以上",
    "media_exposure": "媒体/网络曝光",
}


@dataclass(frozen=True)
class Escalation:
    level: Level | None
    complaint_severe: bool  # E5: the complaint became a severe event
    applied: tuple[str, ...]
    reasons: tuple[str, ...]


def rule_sorted(rule_ids: Collection[str]) -> tuple[str, ...]:
    return tuple(rule for rule in RULE_ORDER if rule in rule_ids)


def _moved(before: Level | None, after: Level | None) -> str:
    cap = "，已是最高级别" if before is Level.BLACK else ""
    return f"（{level_label(before)} → {level_label(after)}{cap}）"


def escalate(facts: Facts, level: Level | None, *, reached: Level | None = None) -> Escalation:
    """Apply E1, E3, E4 (faults) and E5 (complaints) to `level`, the level the criteria give.

    Escalations do not stack (revised reading, docs/rules.md): each is computed from the criteria
    level, and the fault takes the highest of the criteria level and every result, capped at black.
    E1 applies once the fault owes a notification, i.e. reaches yellow by any route (criteria, E3,
    E4, or `reached`, a level it was already kept at); E1 and E3 need a criteria level to raise.
    """
    applied: list[str] = []
    reasons: list[str] = []
    results: list[Level] = []

    def holds(rule: str) -> bool:
        fact, incident_type = RULES[rule]
        return facts.type is incident_type and getattr(facts, fact)

    def record(rule: str, text: str, after: Level) -> None:
        applied.append(rule)
        results.append(after)
        reasons.append(f"{rule} {text}{_moved(level, after)}")

    e3 = raise_level(level, 1) if level is not None and holds("E3") else None
    e4 = (Level.BLACK if level is not None and level >= Level.RED else Level.RED) if holds("E4") else None
    if holds("E1"):
        owed = max((lv for lv in (level, e3, e4, reached) if lv is not None), default=None)
        if level is None:
            reasons.append("E1 不适用：未定级故障无可升级的级别")
        elif owed is None or owed < NOTIFICATION_REQUIRED_FROM:
            reasons.append(f"E1 不适用：{level_label(owed)}故障无通报要求（黄色及以上才需通报）")
        else:
            record("E1", "未及时故障通报：升一级", raise_level(level, 1))
    if holds("E3"):
        if e3 is None:
            reasons.append("E3 不适用：未定级故障无可升级的级别")
        else:
            record("E3", "投诉至副总及以上：升一级", e3)
    if e4 is not None:
        record("E4", f"媒体/网络曝光：直接升至{e4.label}", e4)
    if holds("E5"):
        applied.append("E5")
        reasons.append("E5 投诉至副总及以上：投诉升级为严重事件")

    final = max((lv for lv in (level, *results) if lv is not None), default=None)
    if len(results) > 1:
        reasons.append(f"升级不叠加：取各项升级结果中最高者（{level_label(level)} → {level_label(final)}）")

    # Say so when an escalation fact was entered on an incident type its rules do not cover.
    for fact, text in ESCALATION_FACTS.items():
        if getattr(facts, fact) and (fact, facts.type) not in RULES.values():
            reasons.append(f"不升级：{text}的升级规则不适用于{facts.type.label}")
    return Escalation(final, "E5" in applied, tuple(applied), tuple(reasons))
