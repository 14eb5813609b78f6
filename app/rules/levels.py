"""Fault level (故障级别): appendix 2, "各级故障定义标准" — spec §4.2.

A fault's level is the highest level any one criterion reaches. Each criterion (a column of the
table below) is reported once, at the highest level it reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from app.rules.facts import Facts, HqConsequence


class RankedStrEnum(StrEnum):
    """A StrEnum ordered by declaration; plain str order would make "red" < "yellow"."""

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)

    def __lt__(self, other: object) -> bool:
        return self.rank < other.rank if type(other) is type(self) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= other.rank if type(other) is type(self) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > other.rank if type(other) is type(self) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= other.rank if type(other) is type(self) else NotImplemented


R = TypeVar("R", bound=RankedStrEnum)


def higher(a: R | None, b: R | None) -> R | None:
    """The higher of two ranked values; None (not set) is lowest."""
    if a is None or b is None:
        return b if a is None else a
    return max(a, b)


class Level(RankedStrEnum):
    MINOR = "minor"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"
    BLACK = "black"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]

    def up(self, steps: int = 1) -> Level:
        """`steps` levels higher, never above black."""
        members = list(Level)
        return members[min(self.rank + steps, len(members) - 1)]


_LEVEL_LABELS = {
    Level.MINOR: "轻微",
    Level.YELLOW: "黄色",
    Level.ORANGE: "橙色",
    Level.RED: "红色",
    Level.BLACK: "黑色",
}


def level_label(level: Level | None) -> str:
    return level.label if level is not None else "未定级"


def raise_level(level: Level | None, steps: int = 1) -> Level | None:
    """Escalate by `steps`; an unlevelled fault raised one step becomes minor."""
    if steps <= 0:
        return level
    return Level.MINOR.up(steps - 1) if level is None else level.up(steps)


@dataclass(frozen=True)
class Band:
    """A duration band: above `low` (or from it, when `low_inclusive`), up to `high` inclusive."""

    text: str
    low: float
    high: float | None = None
    low_inclusive: bool = False

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        above_low = value >= self.low if self.low_inclusive else value > self.low
        return above_low and (self.high is None or value <= self.high)


def over(limit: float, unit: str) -> Band:
    return Band(f"> {limit} {unit}", limit)


def from_to(low: float, high: float, unit: str) -> Band:
    return Band(f"{low}–{high} {unit}", low, high, low_inclusive=True)


def up_to(high: float, unit: str) -> Band:
    """Any amount at all, but no more than `high` ("且时间不超过")."""
    return Band(f"≤ {high} {unit}", 0, high)


@dataclass(frozen=True)
class LevelRow:
    level: Level
    users: int | None  # affected users, at least
    users_percent: int | None  # ...or this share of the province's users, at least
    complaints: int | None  # this fault's cumulative complaints, at least
    core_interruption: Band | None  # minutes of voice / data / SMS interruption
    offline: Band | None  # hours cut over offline
    billing_delay: Band | None  # hours the bill run is late
    hq: HqConsequence | None  # what HQ did about a late or wrong upload


MIN, HOUR = "分钟", "小时"

# Highest level first: the first row a criterion holds in is the level it reaches.
# fmt: off
FAULT_LEVELS: tuple[LevelRow, ...] = (
    #        level          users      users% complaints core service         offline          bill run
    LevelRow(Level.BLACK,  1_000_000, 80,    1000,      over(60, MIN),       over(10, HOUR),  over(12, HOUR),
             hq=None),
    LevelRow(Level.RED,      500_000, 50,     500,      over(30, MIN),       over(5, HOUR),   over(8, HOUR),
             hq=None),
    LevelRow(Level.ORANGE,   200_000, 20,     100,      over(5, MIN),        over(2, HOUR),   over(5, HOUR),
             hq=HqConsequence.POINTS_DEDUCTED),
    LevelRow(Level.YELLOW,    50_000, 10,      50,      from_to(1, 5, MIN),  up_to(2, HOUR),  over(2, HOUR),
             hq=HqConsequence.CRITICISM),
    LevelRow(Level.MINOR,       None, None,    20,      None,                None,            None,
             hq=HqConsequence.ACCOUNTABILITY),
)
# fmt: on

# The share criterion is written "(对于承载用户规模小于100万的省份)": larger provinces use counts only.
PERCENT_APPLIES_BELOW_USERS = 1_000_000

HQ_TEXT = {
    HqConsequence.POINTS_DEDUCTED: "数据上传不及时或错误引起总部考核扣分",
    HqConsequence.CRITICISM: "数据上传不及时或错误引起总部通报批评",
    HqConsequence.ACCOUNTABILITY: "数据上传不及时或错误引起总部问责",
}

# Minor-only criteria that are yes/no facts.
MINOR_FLAGS = {
    "interface_push_error": "数据下发不及时或错误导致周边系统接口异常",
    "no_impact_violation": "违规操作导致系统运行异常，对业务无实质影响",
    "no_impact_process_abort": "部分进程/功能异常退出，对业务无实质影响",
}


def _wan(users: int) -> str:
    return f"{users // 10_000} 万"


def _users(row: LevelRow, f: Facts) -> str | None:
    if row.users is not None and f.affected_users is not None and f.affected_users >= row.users:
        return f"影响用户数 ≥ {_wan(row.users)}"
    return None


def _users_share(row: LevelRow, f: Facts) -> str | None:
    if (
        row.users_percent is None
        or f.affected_users is None
        or f.total_users is None
        or f.total_users >= PERCENT_APPLIES_BELOW_USERS
    ):
        return None
    # Integer arithmetic, so no float rounding at the boundary (9.99 % vs 10 %).
    if f.affected_users * 100 >= row.users_percent * f.total_users:
        province = f"承载用户 < {_wan(PERCENT_APPLIES_BELOW_USERS)}"
        return f"影响用户数 ≥ 承载用户的 {row.users_percent}%（{province}）"
    return None


def _complaints(row: LevelRow, f: Facts) -> str | None:
    if row.complaints is not None and f.complaints is not None and f.complaints >= row.complaints:
        return f"当次故障累计投诉 ≥ {row.complaints} 单"
    return None


def _core_interruption(row: LevelRow, f: Facts) -> str | None:
    if row.core_interruption is not None and row.core_interruption.holds(f.core_interruption_minutes):
        return f"关键业务（语音/数据/短信）中断 {row.core_interruption.text}"
    return None


def _offline(row: LevelRow, f: Facts) -> str | None:
    if row.offline is not None and row.offline.holds(f.offline_hours):
        return f"系统切离线 {row.offline.text}"
    return None


def _billing_delay(row: LevelRow, f: Facts) -> str | None:
    if row.billing_delay is not None and row.billing_delay.holds(f.billing_delay_hours):
        return f"出账延迟 {row.billing_delay.text}"
    return None


def _hq(row: LevelRow, f: Facts) -> str | None:
    return HQ_TEXT[row.hq] if row.hq is not None and f.hq_consequence is row.hq else None


CRITERIA: tuple[Callable[[LevelRow, Facts], str | None], ...] = (
    _users,
    _users_share,
    _complaints,
    _core_interruption,
    _offline,
    _billing_delay,
    _hq,
)


def fault_level(facts: Facts) -> tuple[Level | None, tuple[str, ...]]:
    """The level the fault criteria give (before escalation), with a reason per criterion held.

    Reasons are highest level first, e.g. "橙色：当次故障累计投诉 ≥ 100 单". None: no criterion holds.
    """
    found: list[tuple[Level, str]] = []
    for criterion in CRITERIA:
        for row in FAULT_LEVELS:
            text = criterion(row, facts)
            if text:
                found.append((row.level, text))
                break
    found += [(Level.MINOR, text) for flag, text in MINOR_FLAGS.items() if getattr(facts, flag)]
    if not found:
        return None, ()
    found.sort(key=lambda item: item[0].rank, reverse=True)  # stable: table order within a level
    return found[0][0], tuple(f"{level.label}：{text}" for level, text in found)
