"""What the form files accept and refuse: a full and a minimal registration, each handling outcome, the
confirmation, closing, notification, action and tracking forms, with the messages a user would get."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.forms import schema_of, validator

HANDLING = ["initial_support", "first_line_handling", "second_line_handling", "coordinate_emergency"]


def errors(name: str, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(name).iter_errors(data)]


FULL_REGISTRATION = {
    "incident": {
        "title": "广东省部分用户充值失败",
        "description": "自 09:10 起部分用户通过营业厅充值返回超时。",
        "source": "monitoring",
        "occurred_at": "2024-05-01T09:10:00+08:00",
        "system": "计费系统 / 充值模块",
        "customer_involved": True,
        "contact": "张三 13800000000",
    },
    "facts": {
        "type": "fault",
        "fault_category": "interface",
        "affected_users": 60000,
        "total_users": 800000,
        "complaints": 12,
        "core_interruption_minutes": 0,
        "offline_hours": 0.5,
        "billing_delay_hours": 0,
        "hq_consequence": "none",
        "interface_push_error": False,
        "no_impact_violation": False,
        "no_impact_process_abort": False,
        "urgent_requested": False,
        "core_business_impact": "yes",
        "non_core_business_affected": False,
        "customer_demand": False,
        "vp_complaint": False,
        "media_exposure": False,
    },
    "on_spot": {"solved": False},
}


def with_(base: dict[str, Any], top: str, **changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(base))
    for key, value in changes.items():
        if value is ...:
            data[top].pop(key, None)
        else:
            data[top][key] = value
    return data


def test_full_registration_is_valid():
    assert errors("register_incident", FULL_REGISTRATION) == []


def test_minimal_registration_is_valid():
    data = {
        "incident": {"title": "咨询账单", "description": "客户咨询本月账单。", "source": "hotline"},
        "facts": {"type": "consultation"},
        "on_spot": {"solved": False},
    }
    assert errors("register_incident", data) == []


def test_on_spot_solution():
    solved = {"solved": True, "kind": "workaround", "solution": "重启充值进程后恢复。"}
    assert errors("register_incident", {**FULL_REGISTRATION, "on_spot": solved}) == []
    for bad in (
        {"solved": True},
        {"solved": True, "kind": "resolved"},
        {"solved": True, "solution": "已处理"},
        {"solved": True, "kind": "resolved", "solution": ""},
    ):
        assert errors("register_incident", {**FULL_REGISTRATION, "on_spot": bad}), bad
    assert errors("register_incident", with_(FULL_REGISTRATION, "on_spot", solved=...))


@pytest.mark.parametrize(
    "top,changes",
    [
        ("incident", {"title": ...}),
        ("incident", {"title": ""}),
        ("incident", {"description": ...}),
        ("incident", {"source": ...}),
        ("incident", {"source": "fax"}),
        ("incident", {"title": "长" * 201}),
        ("incident", {"customer_involved": "yes"}),
        ("incident", {"extra": 1}),
        ("facts", {"type": ...}),
        ("facts", {"type": "outage"}),
        ("facts", {"fault_category": ...}),  # required for a fault
        ("facts", {"fault_category": "network"}),
        ("facts", {"affected_users": -1}),
        ("facts", {"affected_users": 1.5}),
        ("facts", {"total_users": 0}),
        ("facts", {"complaints": True}),
        ("facts", {"offline_hours": -0.1}),
        ("facts", {"hq_consequence": "warning"}),
        ("facts", {"late_notification": True}),  # set by the process, never by the form
        ("facts", {"designated_emergency": True}),  # only the incident manager, through update_facts
    ],
)
def test_invalid_registrations(top, changes):
    assert errors("register_incident", with_(FULL_REGISTRATION, top, **changes))


def test_fault_category_is_optional_for_other_types():
    data = with_(FULL_REGISTRATION, "facts", type="complaint", fault_category=...)
    assert errors("register_incident", data) == []
    assert errors("register_incident", {**FULL_REGISTRATION, "extra": {}})


def test_occurred_at_format():
    checker = Draft202012Validator.FORMAT_CHECKER
    if "date-time" not in checker.checkers:
        pytest.skip("date-time is not checked: jsonschema needs rfc3339-validator for that format")
    assert errors("register_incident", with_(FULL_REGISTRATION, "incident", occurred_at="昨天上午"))


# --- handling forms
@pytest.mark.parametrize("name", HANDLING)
def test_handling_resolved(name):
    ok = {
        "handling": {
            "notes": "排查日志",
            "outcome": "resolved",
            "solution_kind": "resolved",
            "solution": "修正接口配置",
        }
    }
    assert errors(name, ok) == []
    assert errors(name, with_(ok, "handling", solution=...))
    assert errors(name, with_(ok, "handling", solution=""))
    assert errors(name, with_(ok, "handling", solution_kind=...))
    assert errors(name, with_(ok, "handling", solution_kind="fixed"))
    assert errors(name, with_(ok, "handling", outcome=...))
    assert errors(name, {"handling": {}})
    assert errors(name, {})


@pytest.mark.parametrize("name", HANDLING)
def test_handling_pass_on(name):
    stages = schema_of(name)["properties"]["handling"]["properties"]["next_stage"]["enum"]
    to_second = {"handling": {"outcome": "pass_on", "next_stage": "second_line", "group": "development"}}
    assert errors(name, to_second) == []
    assert errors(name, with_(to_second, "handling", group=...)), "pass_on to second line needs a group"
    assert errors(name, with_(to_second, "handling", group="ops"))
    assert errors(name, {"handling": {"outcome": "pass_on"}}), "pass_on needs next_stage"
    for stage in stages:
        data = {"handling": {"outcome": "pass_on", "next_stage": stage}}
        assert bool(errors(name, data)) == (stage == "second_line"), stage
    assert errors(name, {"handling": {"outcome": "pass_on", "next_stage": "third_line"}})


def test_handling_outcomes_per_form():
    assert errors("initial_support", {"handling": {"outcome": "change"}})
    assert errors("first_line_handling", {"handling": {"outcome": "announce"}})
    assert errors("second_line_handling", {"handling": {"outcome": "announce"}})
    assert errors(
        "first_line_handling",
        {"handling": {"outcome": "resolved", "solution_kind": "resolved", "solution": "x", "change_kind": "defect"}},
    )
    assert errors("initial_support", {"handling": {"outcome": "pass_on", "next_stage": "initial_support"}})
    assert errors("first_line_handling", {"handling": {"outcome": "pass_on", "next_stage": "first_line"}})
    assert errors("coordinate_emergency", {"handling": {"outcome": "pass_on", "next_stage": "incident_manager"}})


@pytest.mark.parametrize("name", ["second_line_handling", "coordinate_emergency"])
def test_handling_change(name):
    ok = {"handling": {"outcome": "change", "change_kind": "defect", "change_reference": "BUG-20240501-001"}}
    assert errors(name, ok) == []
    assert errors(name, with_(ok, "handling", change_reference=...))
    assert errors(name, with_(ok, "handling", change_reference=""))
    assert errors(name, with_(ok, "handling", change_kind=...))
    assert errors(name, with_(ok, "handling", change_kind="hotfix"))


def test_coordinate_emergency_announce():
    ok = {"handling": {"outcome": "announce", "announcement": "计费系统故障，正在抢修。"}}
    assert errors("coordinate_emergency", ok) == []
    assert errors("coordinate_emergency", {"handling": {"outcome": "announce"}})
    assert errors("coordinate_emergency", {"handling": {"outcome": "announce", "announcement": ""}})


# --- confirm / close
def test_confirm_resolution():
    assert errors("confirm_resolution", {"confirmation": {"resolved": True}}) == []
    assert (
        errors(
            "confirm_resolution", {"confirmation": {"resolved": True, "on_behalf": True, "customer_confirmed": True}}
        )
        == []
    )
    assert errors("confirm_resolution", {"confirmation": {"resolved": False, "comment": "仍无法充值"}}) == []
    assert errors("confirm_resolution", {"confirmation": {"resolved": False}})
    assert errors("confirm_resolution", {"confirmation": {"resolved": False, "comment": ""}})
    assert errors("confirm_resolution", {"confirmation": {}})
    assert errors("confirm_resolution", {"confirmation": {"resolved": "true"}})


def test_close_incident():
    def close(**kw):
        return errors("close_incident", {"closure": kw})

    assert close(code="resolved", follow_up="none") == []
    assert close(code="workaround", follow_up="none", customer_confirmed=True, note="已确认") == []
    assert close(code="workaround", follow_up="problem", follow_up_title="充值超时根因分析") == []
    assert close(code="workaround", follow_up="incident", follow_up_title="跟踪充值接口改造") == []
    assert close(code="resolved", follow_up="problem", follow_up_title="x"), "resolved allows no follow-up"
    assert close(code="resolved", follow_up="incident", follow_up_title="x")
    assert close(code="workaround", follow_up="problem"), "follow-up needs a title"
    assert close(code="workaround", follow_up="incident", follow_up_title="")
    assert close(code="workaround")
    assert close(follow_up="none")
    assert close(code="cancelled", follow_up="none")


# --- the other task forms and event payloads
def test_notify_fault():
    ok = {
        "notification": {
            "channels": ["sms", "meeting"],
            "recipients": "省公司值班经理",
            "content": "计费系统故障，影响充值。",
        }
    }
    assert errors("notify_fault", ok) == []
    for bad in ([], ["sms", "sms"], ["fax"], "sms"):
        assert errors("notify_fault", with_(ok, "notification", channels=bad)), bad
    assert errors("notify_fault", with_(ok, "notification", recipients=""))
    assert errors("notify_fault", with_(ok, "notification", content=...))


@pytest.mark.parametrize(
    "name,top,actions",
    [
        ("follow_up_deadline", "follow_up", ["coordinated", "escalated", "accepted"]),
        ("track_incident", "tracking", ["following", "coordinated", "no_action"]),
    ],
)
def test_action_forms(name, top, actions):
    for action in actions:
        assert errors(name, {top: {"action": action}}) == []
        assert errors(name, {top: {"action": action, "note": "已联系开发组"}}) == []
    assert errors(name, {top: {"note": "无"}})
    assert errors(name, {top: {"action": "ignored"}})


def test_update_facts():
    assert errors("update_facts", {"update": {"note": "投诉数增加"}}) == []
    full = {
        "note": "影响扩大",
        "affected_users": 600000,
        "total_users": 2000000,
        "complaints": 520,
        "core_interruption_minutes": 35,
        "offline_hours": 6,
        "billing_delay_hours": 9,
        "hq_consequence": "criticism",
        "vp_complaint": True,
        "media_exposure": False,
        "core_business_impact": "unknown",
        "complaint_surge_expected": True,
        "designated_emergency": True,
    }
    assert errors("update_facts", {"update": full}) == []
    assert errors("update_facts", {"update": {"complaints": 3}}), "note is required"
    assert errors("update_facts", {"update": {"note": ""}})
    assert errors("update_facts", {"update": {"note": "改类型", "type": "fault"}})
    assert errors("update_facts", {"update": {"note": "x", "vp_complaint": "true"}})
    assert errors("update_facts", {"update": {"note": "x", "complaints": -5}})


def test_forward_tracking():
    assert errors("forward_tracking", {"tracking_request": {"note": "请协调信息系统部"}}) == []
    assert errors("forward_tracking", {"tracking_request": {"note": ""}})
    assert errors("forward_tracking", {"tracking_request": {}})
