"""Impact (影响度) and handling deadline (处理期限): appendix 2, the priority table — spec §4.3."""

from __future__ import annotations

from app.rules.facts import IncidentType
from app.rules.levels import Level, RankedStrEnum, level_label


class Impact(RankedStrEnum):
    GENERAL = "general"
    SEVERE = "severe"
    MAJOR = "major"

    @property
    def label(self) -> str:
        return _IMPACT_LABELS[self]


_IMPACT_LABELS = {Impact.GENERAL: "一般", Impact.SEVERE: "严重", Impact.MAJOR: "重大"}

# Faults (and security events classified by the fault criteria).
IMPACT_BY_LEVEL: dict[Level | None, Impact] = {
    Level.BLACK: Impact.MAJOR,
    Level.RED: Impact.MAJOR,
    Level.ORANGE: Impact.SEVERE,
    Level.YELLOW: Impact.GENERAL,
    Level.MINOR: Impact.GENERAL,
    None: Impact.GENERAL,  # a fault that meets no criterion is still a fault
}

DEADLINE_HOURS_BY_IMPACT = {Impact.MAJOR: 12, Impact.SEVERE: 12, Impact.GENERAL: 24}

# Incidents without a fault level have no impact, only a deadline.
DEADLINE_HOURS_BY_TYPE = {
    IncidentType.COMPLAINT: 24,
    IncidentType.REQUEST: 24,
    IncidentType.CONSULTATION: 48,
}


def impact_and_deadline(
    incident_type: IncidentType, level: Level | None, complaint_severe: bool
) -> tuple[Impact | None, int, str]:
    """Impact, deadline in hours, and the reason. `complaint_severe`: rule E5 applied."""
    if incident_type in (IncidentType.FAULT, IncidentType.SECURITY):
        impact = IMPACT_BY_LEVEL[level]
        hours = DEADLINE_HOURS_BY_IMPACT[impact]
        subject = f"{level_label(level)}{incident_type.label}"
        return impact, hours, f"影响度{impact.label}：{subject}，处理期限 {hours} 小时"
    if complaint_severe:
        hours = DEADLINE_HOURS_BY_IMPACT[Impact.SEVERE]
        return Impact.SEVERE, hours, f"影响度严重：投诉升级为严重事件（E5），处理期限 {hours} 小时"
    hours = DEADLINE_HOURS_BY_TYPE[incident_type]
    return None, hours, f"{incident_type.label}：处理期限 {hours} 小时"
