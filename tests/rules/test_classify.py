"""Facts validation, the full classification, and reclassification during handling (E2)."""

from __future__ import annotations

import json

import pytest

from app.rules import (
    Classification,
    Facts,
    FactsError,
    FaultCategory,
    HqConsequence,
    Impact,
    IncidentType,
    Level,
    Urgency,
    classify,
    parse_facts,
    reclassify,
)

# --- parse_facts -------------------------------------------------------------------------------


def test_parse_facts_reads_every_field():
    facts = parse_facts(
        {
            "type": "fault",
            "fault_category": "external_system",
            "affected_users": 10,
            "total_users": 20,
            "complaints": 3,
            "core_interruption_minutes": 1.5,
            "offline_hours": 2,
            "billing_delay_hours": 0,
            "hq_consequence": "criticism",
            "interface_push_error": True,
            "designated_emergency": True,
        }
    )
    assert facts == Facts(
        type=IncidentType.FAULT,
        fault_category=FaultCategory.EXTERNAL_SYSTEM,
        affected_users=10,
        total_users=20,
        complaints=3,
        core_interruption_minutes=1.5,
        offline_hours=2,
        billing_delay_hours=0,
        hq_consequence=HqConsequence.CRITICISM,
        interface_push_error=True,
        designated_emergency=True,
    )


def test_defaults():
    facts = parse_facts({"type": "request"})
    assert facts.to_dict() == {
        "type": "request",
        "fault_category": None,
        "affected_users": None,
        "total_users": None,
        "complaints": None,
        "core_interruption_minutes": None,
        "offline_hours": None,
        "billing_delay_hours": None,
        "hq_consequence": "none",
        "interface_push_error": False,
        "no_impact_violation": False,
        "no_impact_process_abort": False,
        "urgent_requested": False,
        "core_business_affected": False,
        "core_business_impact": None,
        "non_core_business_affected": False,
        "customer_demand": False,
        "complaint_surge_expected": False,
        "late_notification": False,
        "vp_complaint": False,
        "media_exposure": False,
        "designated_emergency": False,
    }


def test_to_dict_is_plain_json_and_parses_back():
    facts = parse_facts({"type": "fault", "fault_category": "data", "hq_consequence": "accountability"})
    plain = facts.to_dict()
    assert type(plain["type"]) is str and type(plain["hq_consequence"]) is str
    assert parse_facts(json.loads(json.dumps(plain))) == facts


def test_null_means_not_given():
    facts = parse_facts({"type": "fault", "complaints": None, "vp_complaint": None})
    assert facts == Facts(IncidentType.FAULT)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "type: required"),
        ({"type": None}, "type: required"),
        ({"complaints": 3}, "type: required"),
        (
            {"type": "bug"},
            "type: must be one of consultation, request, complaint, fault, security; got 'bug'",
        ),
        ({"type": "fault", "severity": "high"}, "severity: unknown field"),
        ({"type": "fault", "complaints": -3}, "complaints: must be a non-negative integer, got -3"),
        ({"type": "fault", "complaints": 2.0}, "complaints: must be a non-negative integer, got 2.0"),
        ({"type": "fault", "complaints": "3"}, "complaints: must be a non-negative integer, got '3'"),
        (
            {"type": "fault", "affected_users": True},
            "affected_users: must be a non-negative integer, got True",
        ),
        ({"type": "fault", "offline_hours": -0.5}, "offline_hours: must be a non-negative number, got -0.5"),
        (
            {"type": "fault", "offline_hours": False},
            "offline_hours: must be a non-negative number, got False",
        ),
        (
            {"type": "fault", "billing_delay_hours": float("nan")},
            "billing_delay_hours: must be a non-negative number, got nan",
        ),
        (
            {"type": "fault", "core_interruption_minutes": float("inf")},
            "core_interruption_minutes: must be a non-negative number, got inf",
        ),
        ({"type": "fault", "vp_complaint": 1}, "vp_complaint: must be true or false, got 1"),
        ({"type": "fault", "media_exposure": "yes"}, "media_exposure: must be true or false, got 'yes'"),
        (
            {"type": "fault", "fault_category": "network"},
            "fault_category: must be one of interface, configuration, external_system, hardware, data, "
            "application, other; got 'network'",
        ),
        (
            {"type": "fault", "hq_consequence": "fined"},
            "hq_consequence: must be one of none, accountability, criticism, points_deducted; got 'fined'",
        ),
        ({"type": "fault", "total_users": 0}, "total_users: must be a positive integer, got 0"),
        (
            {"type": "fault", "affected_users": 11, "total_users": 10},
            "affected_users: cannot exceed total_users (11 > 10)",
        ),
    ],
    ids=[
        "missing-type",
        "null-type",
        "type-absent",
        "bad-type",
        "unknown-field",
        "negative-count",
        "float-count",
        "string-count",
        "bool-as-count",
        "negative-hours",
        "bool-as-hours",
        "nan",
        "infinity",
        "int-as-flag",
        "string-as-flag",
        "bad-category",
        "bad-hq",
        "zero-total",
        "affected-over-total",
    ],
)
def test_parse_facts_errors(data, message):
    with pytest.raises(FactsError) as error:
        parse_facts(data)
    assert str(error.value) == message


@pytest.mark.parametrize("data", [[], "fault", 3, None], ids=["list", "string", "number", "null"])
def test_parse_facts_needs_a_mapping(data):
    with pytest.raises(FactsError, match="^facts must be a JSON object, got "):
        parse_facts(data)


def test_facts_error_is_a_value_error():
    assert issubclass(FactsError, ValueError)


def test_merged_replaces_keys_and_validates():
    facts = parse_facts({"type": "fault", "complaints": 30, "vp_complaint": True})
    assert facts.merged({"complaints": 120}) == Facts(IncidentType.FAULT, complaints=120, vp_complaint=True)
    assert facts.complaints == 30  # frozen: a new object
    with pytest.raises(FactsError, match="^complaints: must be a non-negative integer, got -1$"):
        facts.merged({"complaints": -1})
    with pytest.raises(FactsError, match="^typo: unknown field$"):
        facts.merged({"typo": 1})


# --- classify ----------------------------------------------------------------------------------


def test_classify_explains_every_step():
    result = classify(
        parse_facts(
            {
                "type": "fault",
                "complaints": 120,
                "billing_delay_hours": 3,
                "late_notification": True,
                "vp_complaint": True,
                "non_core_business_affected": True,
            }
        )
    )
    assert result == Classification(
        type=IncidentType.FAULT,
        level=Level.RED,
        impact=Impact.MAJOR,
        urgency=Urgency.HIGH,
        emergency=True,
        deadline_hours=12,
        escalations=("E1", "E3"),
        reasons=(
            "橙色：当次故障累计投诉 ≥ 100 单",
            "黄色：出账延迟 > 2 小时",
            "E1 未及时故障通报：升一级（橙色 → 红色）",
            "E3 投诉至副总及以上：升一级（橙色 → 红色）",
            "升级不叠加：取各项升级结果中最高者（橙色 → 红色）",
            "影响度重大：红色故障，处理期限 12 小时",
            "紧急度高：投诉 > 50 单",
            "紧急事件：紧急度高",
        ),
        criteria_level=Level.ORANGE,
    )


def test_classify_unlevelled_fault():
    assert classify(parse_facts({"type": "fault", "fault_category": "hardware"})).to_dict() == {
        "type": "fault",
        "level": None,
        "impact": "general",
        "urgency": "low",
        "emergency": False,
        "deadline_hours": 24,
        "escalations": [],
        "reasons": [
            "未定级：未达任何故障级别标准",
            "影响度一般：未定级故障，处理期限 24 小时",
            "紧急度低：不涉及业务使用，也不涉及用户投诉",
        ],
        "criteria_level": None,
    }


def test_fault_facts_do_not_level_a_request():
    result = classify(parse_facts({"type": "request", "offline_hours": 11, "affected_users": 2_000_000}))
    assert (result.level, result.impact, result.deadline_hours) == (None, None, 24)


def test_classification_round_trips_through_json():
    result = classify(parse_facts({"type": "complaint", "vp_complaint": True, "complaints": 3}))
    stored = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert stored["impact"] == "severe" and stored["level"] is None and stored["escalations"] == ["E5"]
    assert Classification.from_dict(stored) == result


# --- reclassify --------------------------------------------------------------------------------


def facts(**values) -> Facts:
    return parse_facts({"type": "fault", **values})


def test_worsening_raises_the_level_with_e2():
    before = classify(facts(complaints=60))
    after = reclassify(before, facts(complaints=150))
    assert (before.level, after.level) == (Level.YELLOW, Level.ORANGE)
    assert (after.impact, after.deadline_hours, after.escalations) == (Impact.SEVERE, 12, ("E2",))
    assert "E2 故障恶化：新事实达到橙色标准（黄色 → 橙色）" in after.reasons
    assert "级别变化：黄色 → 橙色" in after.reasons
    assert "处理期限变化：24 → 12 小时" in after.reasons


def test_worsening_of_an_unlevelled_fault_is_e2():
    after = reclassify(classify(facts()), facts(complaints=25))
    assert (after.level, after.escalations) == (Level.MINOR, ("E2",))


def test_e2_compares_the_new_criteria_level_with_the_previous_criteria_level():
    # Previous: yellow + E1 = orange. New facts reach orange: the criteria worsened (E2), and E1
    # is computed again from the new criteria level: red.
    before = classify(facts(complaints=60, late_notification=True))
    after = reclassify(before, facts(complaints=150, late_notification=True))
    assert (before.level, after.level, after.escalations) == (Level.ORANGE, Level.RED, ("E1", "E2"))
    assert "E2 故障恶化：新事实达到橙色标准（黄色 → 橙色）" in after.reasons
    assert after.criteria_level is Level.ORANGE
    # The same criteria level again: no E2.
    again = reclassify(after, facts(complaints=160, late_notification=True))
    assert (again.level, again.escalations) == (Level.RED, ("E1", "E2"))
    assert not [r for r in again.reasons if r.startswith("E2")]


def test_a_downgrade_is_refused():
    before = classify(facts(complaints=600, urgent_requested=True))
    after = reclassify(before, facts(complaints=30))
    assert (after.level, after.impact, after.urgency, after.emergency, after.deadline_hours) == (
        Level.RED,
        Impact.MAJOR,
        Urgency.HIGH,
        True,
        12,
    )
    assert after.escalations == ()
    assert after.reasons[-5:] == (
        "保持红色：级别不因新事实降低（此前依据：红色：当次故障累计投诉 ≥ 500 单）",
        "保持影响度重大：影响度不因新事实降低",
        "保持紧急度高：紧急度不因新事实降低",
        "保持紧急事件：紧急事件认定不因新事实撤销",
        "保持处理期限 12 小时：期限不因新事实放宽",
    )


def test_a_kept_level_keeps_naming_what_set_it_however_often_it_is_kept():
    red = classify(facts(complaints=600))
    kept = reclassify(reclassify(red, facts(complaints=100)), facts(complaints=60))
    assert kept.level is Level.RED
    assert [reason for reason in kept.reasons if reason.startswith("保持红色")] == [
        "保持红色：级别不因新事实降低（此前依据：红色：当次故障累计投诉 ≥ 500 单）"
    ]
    escalated = classify(facts(complaints=150, vp_complaint=True))  # orange raised to red by E3
    kept = reclassify(escalated, facts(complaints=60, vp_complaint=True))
    assert "（此前依据：E3 投诉至副总及以上：升一级（橙色 → 红色））" in kept.reasons[-2]


def test_escalations_already_applied_are_kept_in_rule_order():
    before = classify(facts(complaints=20, vp_complaint=True))
    after = reclassify(before, facts(complaints=120, media_exposure=True))
    assert (before.level, before.escalations) == (Level.YELLOW, ("E3",))
    assert (after.level, after.escalations) == (Level.RED, ("E2", "E3", "E4"))


def test_e2_when_the_criteria_level_rises_under_an_escalated_level():
    # yellow + E4 = red; the criteria reach red: E2 is recorded (yellow → red), and E4 computed
    # from the red criteria level gives black.
    before = classify(facts(complaints=60, media_exposure=True))
    after = reclassify(before, facts(complaints=600, media_exposure=True))
    assert (before.level, after.level, after.escalations) == (Level.RED, Level.BLACK, ("E2", "E4"))


def test_e1_applies_to_a_fault_kept_at_yellow_by_an_earlier_classification():
    # The notification became owed at yellow; facts now read lower, but the level never falls,
    # so the duty stands and E1 applies (from the new criteria level).
    before = classify(facts(complaints=60))
    after = reclassify(before, facts(complaints=25, late_notification=True))
    assert (after.level, after.escalations) == (Level.YELLOW, ("E1",))


def test_a_stored_classification_without_its_criteria_level_reads_it_from_its_facts():
    stored = {
        **classify(facts(complaints=60, vp_complaint=True)).to_dict(),
        "facts": {"type": "fault", "complaints": 60},
    }
    del stored["criteria_level"]
    assert Classification.from_dict(stored).criteria_level is Level.YELLOW


def test_new_escalation_fact_during_handling():
    after = reclassify(classify(facts(complaints=60)), facts(complaints=60, vp_complaint=True))
    assert (after.level, after.escalations) == (Level.ORANGE, ("E3",))
    assert "E2 故障恶化：新事实达到黄色标准（黄色 → 黄色）" not in after.reasons


def test_unchanged_facts_change_nothing():
    before = classify(facts(complaints=120, late_notification=True))
    after = reclassify(before, facts(complaints=120, late_notification=True))
    assert after == before


def test_complaint_reclassified_to_e5():
    before = classify(parse_facts({"type": "complaint"}))
    after = reclassify(before, parse_facts({"type": "complaint", "vp_complaint": True}))
    assert (after.impact, after.deadline_hours, after.escalations) == (Impact.SEVERE, 12, ("E5",))


def test_security_event_rises_without_e2():
    before = classify(parse_facts({"type": "security"}))
    after = reclassify(before, parse_facts({"type": "security", "offline_hours": 3}))
    assert (after.level, after.escalations) == (Level.ORANGE, ())


def test_reclassify_refuses_a_type_change():
    with pytest.raises(FactsError, match="^type: cannot change during handling \\(fault → complaint\\)$"):
        reclassify(classify(facts()), parse_facts({"type": "complaint"}))
