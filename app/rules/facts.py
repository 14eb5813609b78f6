"""The facts an incident is classified from, and their validation.

Facts arrive as plain JSON (registration form, handler updates, the CLI); `parse_facts` is the one
gate they pass, so every rule module may trust the types and ranges it reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

from app.messages import N_, Message


class FactsError(ValueError):
    """Facts that cannot be classified; the text names the field (the rules CLI prints it).

    Errors a form cannot prevent by itself (one fact contradicting another) also carry a `message`
    the user interface translates.
    """

    def __init__(self, text: str, message: Message | None = None):
        super().__init__(text)
        self.message = message


class IncidentType(StrEnum):
    CONSULTATION = "consultation"  # 咨询
    REQUEST = "request"  # 请求
    COMPLAINT = "complaint"  # 投诉
    FAULT = "fault"  # 故障
    SECURITY = "security"  # 信息安全事件

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]


_TYPE_LABELS = {
    IncidentType.CONSULTATION: "咨询",
    IncidentType.REQUEST: "请求",
    IncidentType.COMPLAINT: "投诉",
    IncidentType.FAULT: "故障",
    IncidentType.SECURITY: "信息安全事件",
}


class FaultCategory(StrEnum):
    INTERFACE = "interface"  # 接口故障
    CONFIGURATION = "configuration"  # 配置故障
    EXTERNAL_SYSTEM = "external_system"  # 外部系统故障
    HARDWARE = "hardware"  # 硬件故障
    DATA = "data"  # 资料故障
    APPLICATION = "application"  # 应用程序故障
    OTHER = "other"  # 其他故障


class CoreBusinessImpact(StrEnum):
    """The registrar's answer to "is core business affected?" (asked for faults, spec §4.4)."""

    YES = "yes"  # 是
    NO = "no"  # 否
    UNKNOWN = "unknown"  # 不确定: medium urgency until someone confirms it


class HqConsequence(StrEnum):
    """What headquarters did about a late or wrong data upload (each maps to one fault level)."""

    NONE = "none"
    ACCOUNTABILITY = "accountability"  # 总部问责 → 轻微
    CRITICISM = "criticism"  # 总部通报批评 → 黄色
    POINTS_DEDUCTED = "points_deducted"  # 总部考核扣分 → 橙色


@dataclass(frozen=True)
class Facts:
    type: IncidentType
    fault_category: FaultCategory | None = None
    affected_users: int | None = None
    total_users: int | None = None  # users the province carries (承载用户规模)
    complaints: int | None = None  # cumulative user complaints for this incident
    core_interruption_minutes: float | None = None  # voice / data / SMS interrupted
    offline_hours: float | None = None  # system cut over offline (切离线)
    billing_delay_hours: float | None = None  # bill run (出账) late
    hq_consequence: HqConsequence = HqConsequence.NONE
    interface_push_error: bool = False
    no_impact_violation: bool = False
    no_impact_process_abort: bool = False
    urgent_requested: bool = False
    core_business_affected: bool = False  # the yes/no of earlier forms and the CLI: true is "yes"
    core_business_impact: CoreBusinessImpact | None = None  # None: not asked
    non_core_business_affected: bool = False
    customer_demand: bool = False
    complaint_surge_expected: bool = False  # "可能引起大量投诉": counts as > 50 complaints for urgency only
    late_notification: bool = False
    vp_complaint: bool = False
    media_exposure: bool = False
    designated_emergency: bool = False

    def to_dict(self) -> dict[str, Any]:
        # StrEnum members are str, so json.dumps already writes their values; str() makes the
        # dict plain for callers that compare or store it.
        return {k: str(v) if isinstance(v, StrEnum) else v for k, v in asdict(self).items()}

    def merged(self, updates: Mapping[str, Any]) -> Facts:
        """These facts with `updates` applied, validated like fresh input."""
        return parse_facts({**self.to_dict(), **updates})


_COUNTS = ("affected_users", "total_users", "complaints")
_DURATIONS = ("core_interruption_minutes", "offline_hours", "billing_delay_hours")
_ENUMS: dict[str, type[StrEnum]] = {
    "type": IncidentType,
    "fault_category": FaultCategory,
    "hq_consequence": HqConsequence,
    "core_business_impact": CoreBusinessImpact,
}
_FIELDS = tuple(f.name for f in fields(Facts))  # every other field is a boolean flag


def parse_facts(data: Mapping[str, Any]) -> Facts:
    """Validate plain (JSON) data into Facts; raise FactsError naming the first bad field.

    Only `type` is required. A null value means "not given" (the field's default), which lets
    `Facts.to_dict()` output be parsed back.
    """
    if not isinstance(data, Mapping):
        raise FactsError(f"facts must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise FactsError(f"{unknown[0]}: unknown field")
    if data.get("type") is None:
        raise FactsError("type: required")

    values: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        if name in _ENUMS:
            values[name] = _enum(name, value, _ENUMS[name])
        elif name in _COUNTS:
            values[name] = _count(name, value)
        elif name in _DURATIONS:
            values[name] = _duration(name, value)
        else:
            values[name] = _flag(name, value)

    total = values.get("total_users")
    if total == 0:
        raise FactsError("total_users: must be a positive integer, got 0")
    affected = values.get("affected_users")
    if total is not None and affected is not None and affected > total:
        raise FactsError(
            f"affected_users: cannot exceed total_users ({affected} > {total})",
            Message(N_("the affected users (%(affected)s) cannot exceed the province's carried users (%(total)s)"),
                    {"affected": affected, "total": total}),
        )  # fmt: skip
    return Facts(**values)


def _enum(name: str, value: Any, enum: type[StrEnum]) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise FactsError(f"{name}: must be one of {allowed}; got {value!r}") from None


def _count(name: str, value: Any) -> int:
    # bool is an int subclass; a checkbox value in a count field is a form bug, not 0/1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FactsError(f"{name}: must be a non-negative integer, got {value!r}")
    return value


def _duration(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise FactsError(f"{name}: must be a non-negative number, got {value!r}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FactsError(f"{name}: must be true or false, got {value!r}")
    return value
