"""Impact and deadline (spec §4.3), urgency (§4.4) and emergency (§4.5)."""

from __future__ import annotations

import re

import pytest

from app.rules import FactsError, Impact, IncidentType, Level, Urgency, classify, parse_facts
from app.rules.urgency import core_impact_unconfirmed


def classified(**facts):
    return classify(parse_facts(facts))


@pytest.mark.parametrize(
    ("facts", "level", "impact", "hours"),
    [
        ({"type": "fault", "complaints": 1000}, Level.BLACK, Impact.MAJOR, 12),
        ({"type": "fault", "complaints": 500}, Level.RED, Impact.MAJOR, 12),
        ({"type": "fault", "complaints": 100}, Level.ORANGE, Impact.SEVERE, 12),
        ({"type": "fault", "complaints": 50}, Level.YELLOW, Impact.GENERAL, 24),
        ({"type": "fault", "complaints": 20}, Level.MINOR, Impact.GENERAL, 24),
        ({"type": "fault"}, None, Impact.GENERAL, 24),
        ({"type": "security", "offline_hours": 6}, Level.RED, Impact.MAJOR, 12),
        ({"type": "security"}, None, Impact.GENERAL, 24),
        ({"type": "complaint", "complaints": 1000}, None, None, 24),
        ({"type": "request", "complaints": 1000}, None, None, 24),
        ({"type": "consultation", "offline_hours": 20}, None, None, 48),
    ],
    ids=[
        "black-fault",
        "red-fault",
        "orange-fault",
        "yellow-fault",
        "minor-fault",
        "unlevelled-fault",
        "security-with-fault-facts",
        "security-without",
        "complaint",
        "request",
        "consultation",
    ],
)
def test_impact_and_deadline(facts, level, impact, hours):
    result = classified(**facts)
    assert (result.level, result.impact, result.deadline_hours) == (level, impact, hours)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"type": "fault", "complaints": 500}, "影响度重大：红色故障，处理期限 12 小时"),
        ({"type": "fault"}, "影响度一般：未定级故障，处理期限 24 小时"),
        ({"type": "security"}, "影响度一般：未定级信息安全事件，处理期限 24 小时"),
        ({"type": "request"}, "请求：处理期限 24 小时"),
        ({"type": "consultation"}, "咨询：处理期限 48 小时"),
    ],
    ids=["red-fault", "unlevelled-fault", "security", "request", "consultation"],
)
def test_deadline_reason(facts, reason):
    assert reason in classified(**facts).reasons


@pytest.mark.parametrize(
    ("facts", "urgency", "reasons"),
    [
        ({"urgent_requested": True}, Urgency.HIGH, ["紧急度高：客户或重要干系人明确要求紧急处理"]),
        ({"core_business_affected": True}, Urgency.HIGH, ["紧急度高：核心业务受影响或可能受影响"]),
        ({"core_interruption_minutes": 0.5}, Urgency.HIGH, ["紧急度高：关键业务（语音/数据/短信）中断"]),
        ({"complaints": 51}, Urgency.HIGH, ["紧急度高：投诉 > 50 单"]),
        ({"complaints": 50}, Urgency.MEDIUM, ["紧急度中：有用户投诉（≥ 1 单）"]),
        ({"complaints": 1}, Urgency.MEDIUM, ["紧急度中：有用户投诉（≥ 1 单）"]),
        ({"complaints": 0}, Urgency.LOW, ["紧急度低：不涉及业务使用，也不涉及用户投诉"]),
        ({"non_core_business_affected": True}, Urgency.MEDIUM, ["紧急度中：非核心业务受影响或可能受影响"]),
        ({"customer_demand": True}, Urgency.MEDIUM, ["紧急度中：客户需求，未明确要求紧急处理"]),
        ({}, Urgency.LOW, ["紧急度低：不涉及业务使用，也不涉及用户投诉"]),
        (
            {"urgent_requested": True, "complaints": 80, "customer_demand": True},
            Urgency.HIGH,
            ["紧急度高：客户或重要干系人明确要求紧急处理", "紧急度高：投诉 > 50 单"],
        ),
        (
            {"non_core_business_affected": True, "customer_demand": True},
            Urgency.MEDIUM,
            ["紧急度中：非核心业务受影响或可能受影响", "紧急度中：客户需求，未明确要求紧急处理"],
        ),
    ],
    ids=[
        "urgent-requested",
        "core-business",
        "core-interruption",
        "complaints-51",
        "complaints-50",
        "complaints-1",
        "complaints-0",
        "non-core",
        "customer-demand",
        "nothing",
        "high-wins",
        "two-medium",
    ],
)
def test_urgency(facts, urgency, reasons):
    result = classified(type="request", **facts)
    assert result.urgency is urgency
    assert [r for r in result.reasons if r.startswith("紧急度")] == reasons


@pytest.mark.parametrize(
    ("facts", "emergency", "reasons"),
    [
        ({"complaints": 51}, True, ["紧急事件：紧急度高"]),
        ({"complaints": 50}, False, []),
        ({"designated_emergency": True}, True, ["紧急事件：事件经理认定"]),
        (
            {"urgent_requested": True, "designated_emergency": True},
            True,
            ["紧急事件：紧急度高", "紧急事件：事件经理认定"],
        ),
        ({"customer_demand": True}, False, []),
    ],
    ids=["urgency-high", "urgency-medium", "designated", "both", "customer-demand"],
)
def test_emergency(facts, emergency, reasons):
    result = classified(type="consultation", **facts)
    assert result.emergency is emergency
    assert [r for r in result.reasons if r.startswith("紧急事件")] == reasons


def test_designation_does_not_change_urgency():
    result = classified(type="fault", designated_emergency=True)
    assert (result.urgency, result.emergency) == (Urgency.LOW, True)


def test_complaint_count_on_a_complaint_drives_urgency_not_level():
    result = classified(type="complaint", complaints=600)
    assert (result.type, result.level, result.urgency) == (IncidentType.COMPLAINT, None, Urgency.HIGH)


# --- the urgency floor, core business yes/no/unknown, an expected complaint surge (revised 2026-11-30)


@pytest.mark.parametrize(
    ("facts", "urgency", "reasons"),
    [
        ({"affected_users": 1}, Urgency.MEDIUM, ["紧急度中：涉及业务使用：影响用户数 > 0"]),
        ({"affected_users": 0}, Urgency.LOW, ["紧急度低：不涉及业务使用，也不涉及用户投诉"]),
        ({"offline_hours": 0.01}, Urgency.MEDIUM, ["紧急度中：涉及业务使用：系统切离线 > 0"]),
        ({"offline_hours": 0}, Urgency.LOW, ["紧急度低：不涉及业务使用，也不涉及用户投诉"]),
        ({"billing_delay_hours": 0.01}, Urgency.MEDIUM, ["紧急度中：涉及业务使用：出账延迟 > 0"]),
        ({"billing_delay_hours": 0}, Urgency.LOW, ["紧急度低：不涉及业务使用，也不涉及用户投诉"]),
        # the three: a black fault by users, bill run and offline time is never low
        ({"affected_users": 1_000_000}, Urgency.MEDIUM, ["紧急度中：涉及业务使用：影响用户数 > 0"]),
        ({"billing_delay_hours": 13}, Urgency.MEDIUM, ["紧急度中：涉及业务使用：出账延迟 > 0"]),
        ({"offline_hours": 11}, Urgency.MEDIUM, ["紧急度中：涉及业务使用：系统切离线 > 0"]),
        ({"core_business_impact": "yes"}, Urgency.HIGH, ["紧急度高：核心业务受影响或可能受影响"]),
        ({"core_business_impact": "no"}, Urgency.LOW, ["紧急度低：不涉及业务使用，也不涉及用户投诉"]),
        (
            {"core_business_impact": "unknown"},
            Urgency.MEDIUM,
            ["紧急度中：核心业务是否受影响尚不确定（待事件经理确认）"],
        ),
        # an interruption of voice/data/SMS answers the question: high, no confirmation needed
        (
            {"core_business_impact": "unknown", "core_interruption_minutes": 2},
            Urgency.HIGH,
            ["紧急度高：关键业务（语音/数据/短信）中断"],
        ),
        ({"complaint_surge_expected": True}, Urgency.HIGH, ["紧急度高：预计引起大量投诉（> 50 单）"]),
        ({"complaint_surge_expected": False}, Urgency.LOW, ["紧急度低：不涉及业务使用，也不涉及用户投诉"]),
    ],
    ids=[
        "users-1",
        "users-0",
        "offline-just-above-0",
        "offline-0",
        "bill-run-just-above-0",
        "bill-run-0",
        "black-by-users",
        "black-by-bill-run",
        "black-by-offline",
        "core-yes",
        "core-no",
        "core-unknown",
        "core-unknown-but-interrupted",
        "surge-expected",
        "no-surge",
    ],
)
def test_urgency_floor_and_core_business(facts, urgency, reasons):
    result = classified(type="fault", fault_category="application", **facts)
    assert result.urgency is urgency
    assert [r for r in result.reasons if r.startswith("紧急度")] == reasons


def test_an_expected_surge_does_not_level_a_fault():
    result = classified(type="fault", complaint_surge_expected=True)
    assert (result.level, result.urgency, result.emergency) == (None, Urgency.HIGH, True)


@pytest.mark.parametrize(
    ("facts", "unconfirmed"),
    [
        ({"core_business_impact": "unknown"}, True),
        ({"core_business_impact": "unknown", "core_business_affected": True}, False),
        ({"core_business_impact": "unknown", "core_interruption_minutes": 0.5}, False),
        ({"core_business_impact": "yes"}, False),
        ({"core_business_impact": "no"}, False),
        ({}, False),
    ],
    ids=["unknown", "ticked-elsewhere", "interrupted", "yes", "no", "not-asked"],
)
def test_core_impact_to_be_confirmed(facts, unconfirmed):
    assert core_impact_unconfirmed(parse_facts({"type": "fault", **facts})) is unconfirmed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"core_business_impact": "maybe"}, "core_business_impact: must be one of yes, no, unknown; got 'maybe'"),
        ({"core_business_impact": True}, "core_business_impact: must be one of yes, no, unknown; got True"),
        ({"complaint_surge_expected": "yes"}, "complaint_surge_expected: must be true or false, got 'yes'"),
    ],
)
def test_new_facts_are_checked(data, message):
    with pytest.raises(FactsError, match=re.escape(message)):
        parse_facts({"type": "fault", **data})
