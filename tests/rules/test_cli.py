"""`rules classify`: JSON Lines in, one JSON object per non-blank line out."""

from __future__ import annotations

import json

from click.testing import CliRunner

from app.rules.cli import classify_lines, rules_cli

RED_FAULT = '{"type": "fault", "complaints": 120, "late_notification": true}'
RED_FAULT_OUT = {
    "level": "red",
    "impact": "major",
    "urgency": "high",
    "emergency": True,
    "deadline_hours": 12,
    "escalations": ["E1"],
    "reasons": [
        "橙色：当次故障累计投诉 ≥ 100 单",
        "E1 未及时故障通报：升一级（橙色 → 红色）",
        "影响度重大：红色故障，处理期限 12 小时",
        "紧急度高：投诉 > 50 单",
        "紧急事件：紧急度高",
    ],
}
CONSULTATION = '{"type": "consultation"}'
CONSULTATION_OUT = {
    "level": None,
    "impact": None,
    "urgency": "low",
    "emergency": False,
    "deadline_hours": 48,
    "escalations": [],
    "reasons": ["咨询：处理期限 48 小时", "紧急度低：不涉及业务使用，也不涉及用户投诉"],
}


def run(stdin: str):
    result = CliRunner().invoke(rules_cli, ["classify"], input=stdin)
    return result.exit_code, [json.loads(line) for line in result.output.splitlines()], result.output


def test_valid_lines():
    code, out, text = run(f"{RED_FAULT}\n{CONSULTATION}\n")
    assert code == 0
    assert out == [RED_FAULT_OUT, CONSULTATION_OUT]
    assert list(out[0]) == [
        "level",
        "impact",
        "urgency",
        "emergency",
        "deadline_hours",
        "escalations",
        "reasons",
    ]
    assert "橙色" in text  # ensure_ascii=False: Chinese is written as is


def test_an_invalid_line_is_answered_and_the_rest_still_classified():
    code, out, _ = run(f'{RED_FAULT}\n{{"type": "fault", "complaints": -3}}\n{CONSULTATION}\n')
    assert code == 1
    assert out == [
        RED_FAULT_OUT,
        {"error": "line 2: complaints: must be a non-negative integer, got -3"},
        CONSULTATION_OUT,
    ]


def test_blank_lines_are_skipped():
    code, out, _ = run(f"\n{RED_FAULT}\n   \n\n{CONSULTATION}")
    assert (code, out) == (0, [RED_FAULT_OUT, CONSULTATION_OUT])


def test_empty_input():
    assert run("") == (0, [], "")


def test_not_json_and_not_an_object():
    code, out, _ = run('not json\n["fault"]\n{"complaints": 3}\n')
    assert code == 1
    assert out == [
        {"error": "line 1: invalid JSON: Expecting value: line 1 column 1 (char 0)"},
        {"error": "line 2: facts must be a JSON object, got list"},
        {"error": "line 3: type: required"},
    ]


def test_classify_lines_marks_errors():
    lines = [RED_FAULT + "\n", "\n", '{"type": "fault", "colour": "red"}\n']
    assert list(classify_lines(lines)) == [
        (json.dumps(RED_FAULT_OUT, ensure_ascii=False), False),
        ('{"error": "line 3: colour: unknown field"}', True),
    ]


def test_the_revised_facts_are_optional_fields_and_the_output_keys_stay():
    line = json.dumps({"type": "fault", "affected_users": 1_000_000, "core_business_impact": "unknown",
                       "complaint_surge_expected": False})  # fmt: skip
    out = [json.loads(text) for text, _ in classify_lines([line, '{"type": "fault", "core_impact": "yes"}'])]
    assert list(out[0]) == ["level", "impact", "urgency", "emergency", "deadline_hours", "escalations", "reasons"]
    assert (out[0]["level"], out[0]["urgency"]) == ("black", "medium")
    assert out[1] == {"error": "line 2: core_impact: unknown field"}
