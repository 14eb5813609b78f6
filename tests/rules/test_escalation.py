"""Escalation E1, E3, E4, E5 (spec §4.6); E2 is tested with reclassify in test_classify.py."""

from __future__ import annotations

import pytest

from app.rules import Impact, Level, classify, parse_facts

# Facts that give each base level through the complaint count.
BASE = {None: 0, Level.MINOR: 20, Level.YELLOW: 50, Level.ORANGE: 100, Level.RED: 500, Level.BLACK: 1000}
BLACK, RED, ORANGE, YELLOW, MINOR = Level.BLACK, Level.RED, Level.ORANGE, Level.YELLOW, Level.MINOR
LATE, VP, MEDIA = "late_notification", "vp_complaint", "media_exposure"


def fault(base: Level | None, **flags):
    return classify(parse_facts({"type": "fault", "complaints": BASE[base], **flags}))


CASES = [
    # E1: late notification, one level up from the criteria level, once a notification is owed (yellow+)
    (None, (LATE,), None, ()),  # no criteria level to raise
    (MINOR, (LATE,), MINOR, ()),  # no notification owed
    (YELLOW, (LATE,), ORANGE, ("E1",)),
    (ORANGE, (LATE,), RED, ("E1",)),
    (RED, (LATE,), BLACK, ("E1",)),
    (BLACK, (LATE,), BLACK, ("E1",)),
    # E3: complaint to a VP, one level up from the criteria level
    (None, (VP,), None, ()),  # no criteria level to raise
    (MINOR, (VP,), YELLOW, ("E3",)),
    (YELLOW, (VP,), ORANGE, ("E3",)),
    (RED, (VP,), BLACK, ("E3",)),
    (BLACK, (VP,), BLACK, ("E3",)),
    # E1 and E3 do not stack: each from the criteria level, the highest wins
    (YELLOW, (LATE, VP), ORANGE, ("E1", "E3")),
    (ORANGE, (LATE, VP), RED, ("E1", "E3")),
    (RED, (LATE, VP), BLACK, ("E1", "E3")),
    (MINOR, (LATE, VP), YELLOW, ("E1", "E3")),  # E3 makes it yellow: a notification is owed, E1 applies
    # E4: media exposure, straight to red; black only if the criteria level is red or black
    (None, (MEDIA,), RED, ("E4",)),
    (YELLOW, (MEDIA,), RED, ("E4",)),
    (ORANGE, (MEDIA,), RED, ("E4",)),
    (RED, (MEDIA,), BLACK, ("E4",)),
    (BLACK, (MEDIA,), BLACK, ("E4",)),
    (ORANGE, (LATE, MEDIA), RED, ("E1", "E4")),  # E1 gives red, E4 red: red, not black
    (YELLOW, (VP, MEDIA), RED, ("E3", "E4")),
    (YELLOW, (LATE, VP, MEDIA), RED, ("E1", "E3", "E4")),
    (RED, (LATE, MEDIA), BLACK, ("E1", "E4")),
    (MINOR, (LATE, MEDIA), RED, ("E1", "E4")),  # red by E4 owes a notification; E1 from minor: yellow
    (None, (LATE, MEDIA), RED, ("E4",)),  # E1 needs a criteria level
]


def _id(case) -> str:
    base, flags, after, _ = case
    return f"{base}+{'+'.join(flags)}->{after}"


@pytest.mark.parametrize(("base", "flags", "level", "rules"), CASES, ids=[_id(c) for c in CASES])
def test_fault_escalation(base, flags, level, rules):
    result = fault(base, **dict.fromkeys(flags, True))
    assert (result.level, result.escalations) == (level, rules)


@pytest.mark.parametrize(
    ("base", "flags", "reasons"),
    [
        (YELLOW, {"vp_complaint": True}, ["E3 投诉至副总及以上：升一级（黄色 → 橙色）"]),
        (YELLOW, {"late_notification": True}, ["E1 未及时故障通报：升一级（黄色 → 橙色）"]),
        (BLACK, {"late_notification": True}, ["E1 未及时故障通报：升一级（黑色 → 黑色，已是最高级别）"]),
        (None, {"vp_complaint": True}, ["E3 不适用：未定级故障无可升级的级别"]),
        (None, {"late_notification": True}, ["E1 不适用：未定级故障无可升级的级别"]),
        (MINOR, {"late_notification": True}, ["E1 不适用：轻微故障无通报要求（黄色及以上才需通报）"]),
        (ORANGE, {"media_exposure": True}, ["E4 媒体/网络曝光：直接升至红色（橙色 → 红色）"]),
        (RED, {"media_exposure": True}, ["E4 媒体/网络曝光：直接升至黑色（红色 → 黑色）"]),
        (
            YELLOW,
            {"late_notification": True, "vp_complaint": True},
            ["E1 未及时故障通报：升一级（黄色 → 橙色）", "E3 投诉至副总及以上：升一级（黄色 → 橙色）"],
        ),
        (
            MINOR,
            {"late_notification": True, "vp_complaint": True},
            ["E1 未及时故障通报：升一级（轻微 → 黄色）", "E3 投诉至副总及以上：升一级（轻微 → 黄色）"],
        ),
        (
            ORANGE,
            {"late_notification": True, "media_exposure": True},
            ["E1 未及时故障通报：升一级（橙色 → 红色）", "E4 媒体/网络曝光：直接升至红色（橙色 → 红色）"],
        ),
    ],
    ids=[
        "E3",
        "E1",
        "E1-capped",
        "E3-unlevelled",
        "E1-unlevelled",
        "E1-below-yellow",
        "E4-to-red",
        "E4-to-black",
        "E1+E3",
        "E1-owed-after-E3",
        "E1+E4",
    ],
)
def test_escalation_reasons(base, flags, reasons):
    result = fault(base, **flags)
    assert [r for r in result.reasons if r.startswith("E")] == reasons


@pytest.mark.parametrize(
    ("base", "flags", "line"),
    [
        (YELLOW, (LATE, VP), "升级不叠加：取各项升级结果中最高者（黄色 → 橙色）"),
        (ORANGE, (LATE, MEDIA), "升级不叠加：取各项升级结果中最高者（橙色 → 红色）"),
        (YELLOW, (LATE, VP, MEDIA), "升级不叠加：取各项升级结果中最高者（黄色 → 红色）"),
        (YELLOW, (LATE,), None),  # one escalation: nothing to choose from
    ],
    ids=["E1+E3", "E1+E4", "E1+E3+E4", "E1-alone"],
)
def test_several_escalations_say_the_highest_was_taken(base, flags, line):
    result = fault(base, **dict.fromkeys(flags, True))
    assert [r for r in result.reasons if r.startswith("升级不叠加")] == ([line] if line else [])


def test_escalation_recomputes_impact_and_deadline():
    result = fault(YELLOW, late_notification=True)
    assert (result.impact, result.deadline_hours) == (Impact.SEVERE, 12)
    assert "影响度严重：橙色故障，处理期限 12 小时" in result.reasons


def test_e5_makes_a_vp_complaint_severe_with_12_hours():
    result = classify(parse_facts({"type": "complaint", "vp_complaint": True}))
    assert (result.level, result.impact, result.deadline_hours, result.escalations) == (
        None,
        Impact.SEVERE,
        12,
        ("E5",),
    )
    assert "E5 投诉至副总及以上：投诉升级为严重事件" in result.reasons


@pytest.mark.parametrize(
    ("facts", "level", "impact", "hours", "ignored"),
    [
        (
            {"type": "complaint", "late_notification": True, "media_exposure": True},
            None,
            None,
            24,
            ["不升级：未及时故障通报的升级规则不适用于投诉", "不升级：媒体/网络曝光的升级规则不适用于投诉"],
        ),
        (
            {"type": "consultation", "vp_complaint": True},
            None,
            None,
            48,
            ["不升级：投诉至副总及以上的升级规则不适用于咨询"],
        ),
        (
            {"type": "request", "media_exposure": True},
            None,
            None,
            24,
            ["不升级：媒体/网络曝光的升级规则不适用于请求"],
        ),
        (
            {
                "type": "security",
                "complaints": 100,
                "late_notification": True,
                "vp_complaint": True,
                "media_exposure": True,
            },
            Level.ORANGE,
            Impact.SEVERE,
            12,
            [
                "不升级：未及时故障通报的升级规则不适用于信息安全事件",
                "不升级：投诉至副总及以上的升级规则不适用于信息安全事件",
                "不升级：媒体/网络曝光的升级规则不适用于信息安全事件",
            ],
        ),
    ],
    ids=["complaint-fault-only-rules", "consultation", "request", "security"],
)
def test_escalation_ignored_outside_its_types(facts, level, impact, hours, ignored):
    result = classify(parse_facts(facts))
    assert (result.level, result.impact, result.deadline_hours) == (level, impact, hours)
    assert result.escalations == ()
    assert [r for r in result.reasons if r.startswith("不升级")] == ignored
