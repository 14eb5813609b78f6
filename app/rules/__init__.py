"""Classification rules of the incident-management process (事件管理流程, appendix 8).

Pure functions over plain data: no Flask, database or workflow engine. See docs/rules.md.
"""

from app.rules.classify import Classification, classify, reclassify
from app.rules.deadlines import (
    CONFIRMATION_WORKING_DAYS,
    NOTIFICATION_WINDOW_MINUTES,
    REGISTRATION_TARGET_MINUTES,
    WARNING_RATIO,
    add_working_days,
    deadline_times,
)
from app.rules.facts import (
    CoreBusinessImpact,
    Facts,
    FactsError,
    FaultCategory,
    HqConsequence,
    IncidentType,
    parse_facts,
)
from app.rules.impact import Impact
from app.rules.levels import Level, raise_level
from app.rules.urgency import Urgency, core_impact_unconfirmed

__all__ = [
    "CONFIRMATION_WORKING_DAYS",
    "NOTIFICATION_WINDOW_MINUTES",
    "REGISTRATION_TARGET_MINUTES",
    "WARNING_RATIO",
    "Classification",
    "CoreBusinessImpact",
    "Facts",
    "FactsError",
    "FaultCategory",
    "HqConsequence",
    "Impact",
    "IncidentType",
    "Level",
    "Urgency",
    "add_working_days",
    "classify",
    "core_impact_unconfirmed",
    "deadline_times",
    "parse_facts",
    "raise_level",
    "reclassify",
]
