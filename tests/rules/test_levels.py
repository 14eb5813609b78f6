"""Fault-level table (spec §4.2): every threshold on both sides of its boundary."""

from __future__ import annotations

import pytest

from app.rules import Facts, HqConsequence, IncidentType, Level, raise_level
from app.rules.levels import fault_level


def level_of(**facts) -> Level | None:
    return fault_level(Facts(type=IncidentType.FAULT, **facts))[0]


BLACK, RED, ORANGE, YELLOW, MINOR = Level.BLACK, Level.RED, Level.ORANGE, Level.YELLOW, Level.MINOR

BOUNDARIES = [
    # affected users, absolute (province size unknown)
    ({"affected_users": 49_999}, None),
    ({"affected_users": 50_000}, YELLOW),
    ({"affected_users": 199_999}, YELLOW),
    ({"affected_users": 200_000}, ORANGE),
    ({"affected_users": 499_999}, ORANGE),
    ({"affected_users": 500_000}, RED),
    ({"affected_users": 999_999}, RED),
    ({"affected_users": 1_000_000}, BLACK),
    # affected users, share of a province under 1,000,000 users
    ({"affected_users": 29_999, "total_users": 300_000}, None),  # 9.99 %
    ({"affected_users": 30_000, "total_users": 300_000}, YELLOW),  # 10 %
    ({"affected_users": 49_950, "total_users": 500_000}, None),  # 9.99 %
    ({"affected_users": 99_950, "total_users": 500_000}, YELLOW),  # 19.99 % (absolute: yellow)
    ({"affected_users": 100_000, "total_users": 500_000}, ORANGE),  # 20 %
    ({"affected_users": 249_999, "total_users": 500_000}, ORANGE),  # 49.99 % (absolute: orange)
    ({"affected_users": 250_000, "total_users": 500_000}, RED),  # 50 %
    ({"affected_users": 399_999, "total_users": 500_000}, RED),  # 79.99 %
    ({"affected_users": 400_000, "total_users": 500_000}, BLACK),  # 80 %
    ({"affected_users": 79_999, "total_users": 100_000}, RED),  # 79.99 %
    ({"affected_users": 80_000, "total_users": 100_000}, BLACK),  # 80 %
    ({"affected_users": 60_000, "total_users": 800_000}, YELLOW),  # 7.5 %, but absolute ≥ 50,000 still holds
    # share applies below 1,000,000 users, ignored from 1,000,000 on: absolute counts only
    ({"affected_users": 800_000, "total_users": 999_999}, BLACK),  # 80.00008 %
    ({"affected_users": 800_000, "total_users": 1_000_000}, RED),  # 80 % ignored: absolute red
    ({"affected_users": 200_000, "total_users": 1_000_000}, ORANGE),  # 20 % ignored, absolute orange
    ({"affected_users": 199_999, "total_users": 1_000_000}, YELLOW),
    # complaints for this fault, cumulative
    ({"complaints": 19}, None),
    ({"complaints": 20}, MINOR),
    ({"complaints": 49}, MINOR),
    ({"complaints": 50}, YELLOW),
    ({"complaints": 99}, YELLOW),
    ({"complaints": 100}, ORANGE),
    ({"complaints": 499}, ORANGE),
    ({"complaints": 500}, RED),
    ({"complaints": 999}, RED),
    ({"complaints": 1000}, BLACK),
    # core service interruption, minutes
    ({"core_interruption_minutes": 0}, None),
    ({"core_interruption_minutes": 0.9}, None),
    ({"core_interruption_minutes": 1}, YELLOW),
    ({"core_interruption_minutes": 5}, YELLOW),
    ({"core_interruption_minutes": 5.01}, ORANGE),
    ({"core_interruption_minutes": 30}, ORANGE),
    ({"core_interruption_minutes": 30.01}, RED),
    ({"core_interruption_minutes": 60}, RED),
    ({"core_interruption_minutes": 60.01}, BLACK),
    # system offline, hours
    ({"offline_hours": 0}, None),
    ({"offline_hours": 0.01}, YELLOW),
    ({"offline_hours": 2}, YELLOW),
    ({"offline_hours": 2.01}, ORANGE),
    ({"offline_hours": 5}, ORANGE),
    ({"offline_hours": 5.01}, RED),
    ({"offline_hours": 10}, RED),
    ({"offline_hours": 10.01}, BLACK),
    # bill-run delay, hours
    ({"billing_delay_hours": 2}, None),
    ({"billing_delay_hours": 2.01}, YELLOW),
    ({"billing_delay_hours": 5}, YELLOW),
    ({"billing_delay_hours": 5.01}, ORANGE),
    ({"billing_delay_hours": 8}, ORANGE),
    ({"billing_delay_hours": 8.01}, RED),
    ({"billing_delay_hours": 12}, RED),
    ({"billing_delay_hours": 12.01}, BLACK),
    # HQ consequence of a late or wrong upload
    ({"hq_consequence": HqConsequence.NONE}, None),
    ({"hq_consequence": HqConsequence.ACCOUNTABILITY}, MINOR),
    ({"hq_consequence": HqConsequence.CRITICISM}, YELLOW),
    ({"hq_consequence": HqConsequence.POINTS_DEDUCTED}, ORANGE),
    # the three minor-only flags
    ({"interface_push_error": True}, MINOR),
    ({"no_impact_violation": True}, MINOR),
    ({"no_impact_process_abort": True}, MINOR),
    # nothing at all
    ({}, None),
]


def _id(case) -> str:
    facts, level = case
    return ",".join(f"{k}={v}" for k, v in facts.items()) + f"->{level}" if facts else f"no-facts->{level}"


@pytest.mark.parametrize(("facts", "expected"), BOUNDARIES, ids=[_id(c) for c in BOUNDARIES])
def test_threshold(facts, expected):
    assert level_of(**facts) == expected


def test_highest_level_wins_and_every_criterion_is_reported_once():
    level, reasons = fault_level(
        Facts(
            type=IncidentType.FAULT,
            complaints=120,
            core_interruption_minutes=45,
            billing_delay_hours=3,
            interface_push_error=True,
        )
    )
    assert level is Level.RED
    assert reasons == (
        "红色：关键业务（语音/数据/短信）中断 > 30 分钟",
        "橙色：当次故障累计投诉 ≥ 100 单",
        "黄色：出账延迟 > 2 小时",
        "轻微：数据下发不及时或错误导致周边系统接口异常",
    )


def test_absolute_and_share_both_reported():
    level, reasons = fault_level(Facts(type=IncidentType.FAULT, affected_users=60_000, total_users=100_000))
    assert level is Level.RED
    assert reasons == (
        "红色：影响用户数 ≥ 承载用户的 50%（承载用户 < 100 万）",
        "黄色：影响用户数 ≥ 5 万",
    )


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"core_interruption_minutes": 3}, "黄色：关键业务（语音/数据/短信）中断 1–5 分钟"),
        ({"offline_hours": 1.5}, "黄色：系统切离线 ≤ 2 小时"),
        ({"offline_hours": 11}, "黑色：系统切离线 > 10 小时"),
        ({"affected_users": 1_000_000}, "黑色：影响用户数 ≥ 100 万"),
        ({"hq_consequence": HqConsequence.POINTS_DEDUCTED}, "橙色：数据上传不及时或错误引起总部考核扣分"),
        ({"hq_consequence": HqConsequence.ACCOUNTABILITY}, "轻微：数据上传不及时或错误引起总部问责"),
        ({"no_impact_violation": True}, "轻微：违规操作导致系统运行异常，对业务无实质影响"),
    ],
    ids=[
        "core-yellow",
        "offline-yellow",
        "offline-black",
        "users-black",
        "hq-orange",
        "hq-minor",
        "violation",
    ],
)
def test_reason_text(facts, reason):
    assert fault_level(Facts(type=IncidentType.FAULT, **facts))[1] == (reason,)


def test_levels_are_ordered_by_severity_not_alphabetically():
    assert sorted([BLACK, MINOR, RED, YELLOW, ORANGE]) == [MINOR, YELLOW, ORANGE, RED, BLACK]
    assert max(Level.RED, Level.YELLOW) is Level.RED
    assert Level.MINOR < Level.BLACK


@pytest.mark.parametrize(
    ("level", "steps", "expected"),
    [
        (None, 0, None),
        (None, 1, MINOR),
        (None, 2, YELLOW),
        (MINOR, 1, YELLOW),
        (YELLOW, 1, ORANGE),
        (ORANGE, 2, BLACK),
        (RED, 1, BLACK),
        (BLACK, 1, BLACK),
        (YELLOW, 9, BLACK),
    ],
    ids=["none+0", "none+1", "none+2", "minor+1", "yellow+1", "orange+2", "red+1", "black+1", "yellow+9"],
)
def test_raise_level(level, steps, expected):
    assert raise_level(level, steps) == expected
