"""The form files in forms/: well-formed, consistent with their UI schemas, and true to the data contract.

Each BPMN user task names `forms/<name>.schema.json` (JSON Schema 2020-12, validated on the server
with Draft202012Validator + FormatChecker) and `forms/<name>.uischema.json` (react-jsonschema-form
UI schema). The process model reads the submitted keys and values, so the contract below is tested
key by key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.rules.facts import Facts

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"
SCHEMA_FILES = sorted(FORMS_DIR.glob("*.schema.json"))
DRAFT = "https://json-schema.org/draft/2020-12/schema"
WIDGETS = {"textarea", "radio", "select", "checkbox", "checkboxes", "hidden"}
CJK = re.compile(r"[\u4e00-\u9fff]")

HANDLING = ["initial_support", "first_line_handling", "second_line_handling", "coordinate_emergency"]

# form -> top-level property -> {key: enum values, or None for a non-choice field}
CONTRACT: dict[str, dict[str, dict[str, list[Any] | None]]] = {
    "register_incident": {
        "incident": {
            "title": None,
            "description": None,
            "source": [
                "hotline",
                "email",
                "phone",
                "face_to_face",
                "web_ticket",
                "monitoring",
                "vulnerability_scan",
                "portal",
            ],
            "occurred_at": None,
            "system": None,
            "customer_involved": None,
            "contact": None,
            "ops_ticket": None,  # xxxIT平台工单号 (docs/api.md)
        },
        "facts": {
            "type": ["consultation", "request", "complaint", "fault", "security"],
            "fault_category": [
                "interface",
                "configuration",
                "external_system",
                "hardware",
                "data",
                "application",
                "other",
            ],
            "affected_users": None,
            "total_users": None,
            "complaints": None,
            "core_interruption_minutes": None,
            "offline_hours": None,
            "billing_delay_hours": None,
            "hq_consequence": ["none", "accountability", "criticism", "points_deducted"],
            "interface_push_error": None,
            "no_impact_violation": None,
            "no_impact_process_abort": None,
            "urgent_requested": None,
            "core_business_impact": ["yes", "no", "unknown"],
            "non_core_business_affected": None,
            "customer_demand": None,
            "complaint_surge_expected": None,
            "vp_complaint": None,
            "media_exposure": None,
        },
        "on_spot": {"solved": None, "kind": ["resolved", "workaround"], "solution": None},
    },
    "initial_support": {
        "handling": {
            "notes": None,
            "outcome": ["resolved", "pass_on"],
            "next_stage": ["first_line", "second_line", "incident_manager"],
            "group": ["development", "test", "information_systems"],
            "solution_kind": ["resolved", "workaround"],
            "solution": None,
        }
    },
    "first_line_handling": {
        "handling": {
            "notes": None,
            "outcome": ["resolved", "pass_on"],
            "next_stage": ["second_line", "incident_manager", "initial_support"],
            "group": ["development", "test", "information_systems"],
            "solution_kind": ["resolved", "workaround"],
            "solution": None,
        }
    },
    "second_line_handling": {
        "handling": {
            "notes": None,
            "outcome": ["resolved", "pass_on", "change"],
            "next_stage": ["first_line", "second_line", "incident_manager"],
            "group": ["development", "test", "information_systems"],
            "solution_kind": ["resolved", "workaround"],
            "solution": None,
            "change_kind": ["defect", "requirement"],
            "change_reference": None,
        }
    },
    "coordinate_emergency": {
        "handling": {
            "notes": None,
            "outcome": ["resolved", "pass_on", "announce", "change"],
            "next_stage": ["first_line", "second_line"],
            "group": ["development", "test", "information_systems"],
            "solution_kind": ["resolved", "workaround"],
            "solution": None,
            "change_kind": ["defect", "requirement"],
            "change_reference": None,
            "announcement": None,
        }
    },
    "confirm_resolution": {
        "confirmation": {
            "resolved": [True, False],
            "comment": None,
            "on_behalf": None,
            "customer_confirmed": None,
        }
    },
    "close_incident": {
        "closure": {
            "code": ["resolved", "workaround"],
            "follow_up": ["none", "incident", "problem"],
            "follow_up_title": None,
            "customer_confirmed": None,
            "note": None,
        }
    },
    "notify_fault": {
        "notification": {
            "outcome": ["notified", "waived"],
            "channels": None,
            "recipients": None,
            "content": None,
            "waiver_reason": None,
        }
    },
    "follow_up_confirmation": {"confirmation": {"answer": ["resolved", "not_resolved", "no_reply"], "comment": None}},
    "follow_up_deadline": {"follow_up": {"action": ["coordinated", "escalated", "accepted"], "note": None}},
    "track_incident": {"tracking": {"action": ["following", "coordinated", "no_action"], "note": None}},
    "update_facts": {
        "update": {
            "note": None,
            "affected_users": None,
            "total_users": None,
            "complaints": None,
            "core_interruption_minutes": None,
            "offline_hours": None,
            "billing_delay_hours": None,
            "hq_consequence": ["none", "accountability", "criticism", "points_deducted"],
            "interface_push_error": [True, False],
            "no_impact_violation": [True, False],
            "no_impact_process_abort": [True, False],
            "urgent_requested": [True, False],
            "core_business_impact": ["yes", "no", "unknown"],
            "non_core_business_affected": [True, False],
            "customer_demand": [True, False],
            "complaint_surge_expected": [True, False],
            "vp_complaint": [True, False],
            "media_exposure": [True, False],
            "designated_emergency": [True, False],
        }
    },
    "forward_tracking": {"tracking_request": {"note": None}},
}


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def name_of(path: Path) -> str:
    return path.name.removesuffix(".schema.json")


def schema_of(name: str) -> dict[str, Any]:
    return load(FORMS_DIR / f"{name}.schema.json")


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema_of(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def objects(schema: dict[str, Any], ui: dict[str, Any] | None, path: str = "$"):
    """Every object schema reachable through `properties`/`items`, with its UI schema node."""
    if schema.get("type") == "object":
        yield path, schema, ui
        for key, sub in schema.get("properties", {}).items():
            yield from objects(sub, (ui or {}).get(key), f"{path}.{key}")
    elif schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        yield from objects(schema["items"], (ui or {}).get("items"), f"{path}[]")


def fields(schema: dict[str, Any], path: str = "$"):
    """Every property schema (and array item schema) reachable through `properties`/`items`."""
    for key, sub in schema.get("properties", {}).items():
        yield f"{path}.{key}", sub
        yield from fields(sub, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        yield f"{path}[]", schema["items"]
        yield from fields(schema["items"], f"{path}[]")


def test_every_contract_form_exists():
    assert {name_of(p) for p in SCHEMA_FILES} == set(CONTRACT)


# --------------------------------------------------------------------------- per-file structure
@pytest.fixture(params=SCHEMA_FILES, ids=name_of)
def form(request) -> tuple[str, dict[str, Any], dict[str, Any]]:
    path: Path = request.param
    ui_path = path.with_name(f"{name_of(path)}.uischema.json")
    assert ui_path.exists(), f"missing {ui_path.name}"
    return name_of(path), load(path), load(ui_path)


def test_schema_is_valid_draft_2020_12(form):
    _, schema, _ = form
    Draft202012Validator.check_schema(schema)


def test_top_level_convention(form):
    _, schema, _ = form
    assert schema["$schema"] == DRAFT
    assert schema["type"] == "object"
    assert CJK.search(schema["title"])
    assert schema["additionalProperties"] is False
    assert schema["properties"], "a form has at least one fieldset"
    assert set(schema["required"]) == set(schema["properties"])
    for key, prop in schema["properties"].items():
        assert prop["type"] == "object", f"top-level property {key} must be one object (a fieldset)"


def test_objects_closed_and_ui_order_exact(form):
    _, schema, ui = form
    for path, obj, ui_node in objects(schema, ui):
        assert obj.get("additionalProperties") is False, path
        assert set(obj.get("required", [])) <= set(obj["properties"]), path
        assert ui_node is not None, f"no UI schema for {path}"
        order = ui_node.get("ui:order")
        assert order is not None, f"no ui:order for {path}"
        assert len(order) == len(set(order)), f"duplicate in ui:order of {path}"
        assert set(order) == set(obj["properties"]), f"ui:order of {path} differs from its properties"
        stray = {k for k in ui_node if not k.startswith("ui:")} - set(obj["properties"])
        assert not stray, f"UI schema of {path} names unknown properties {stray}"


def test_titles_and_enum_labels_are_chinese(form):
    _, schema, _ = form
    for path, obj, _ in objects(schema, None):
        assert CJK.search(obj.get("title", "")), f"{path} has no Chinese title"
    for path, field in fields(schema):
        if not path.endswith("[]"):
            assert CJK.search(field.get("title", "")), f"{path} has no Chinese title"
        if "enum" in field:
            names = field.get("enumNames")
            assert names is not None, f"{path} has enum without enumNames"
            assert len(names) == len(field["enum"]), f"{path}: enum and enumNames differ in length"
            assert all(CJK.search(n) for n in names), f"{path}: enumNames must be Chinese"
            assert len(set(field["enum"])) == len(field["enum"]), path


def test_field_type_conventions(form):
    _, schema, _ = form
    for path, field in fields(schema):
        t = field.get("type")
        assert isinstance(t, str), f"{path}: type must be one non-null type"
        if t == "string" and "enum" not in field and field.get("format") != "date-time":
            assert field.get("maxLength") in (200, 4000), f"{path}: free text needs maxLength 200 or 4000"
        if t in ("integer", "number"):
            assert field.get("minimum", -1) >= 0, f"{path}: counts and durations are non-negative"


def test_ui_widgets(form):
    name, schema, ui = form
    for path, obj, ui_node in objects(schema, ui):
        for key, field in obj["properties"].items():
            widget = ui_node.get(key, {}).get("ui:widget")
            assert widget is None or widget in WIDGETS, f"{path}.{key}: unknown widget {widget}"
            if field.get("type") == "string" and field.get("maxLength") == 4000:
                assert widget == "textarea", f"{path}.{key}: long text needs a textarea"
            if widget == "textarea":
                assert field.get("type") == "string", f"{path}.{key}"
            if field.get("type") == "string" and "enum" in field:
                assert widget in ("radio", "select"), f"{path}.{key}: choice needs radio or select"
                if widget == "radio":
                    assert len(field["enum"]) <= 4, f"{path}.{key}: more than 4 options need a select"
                elif name != "update_facts":  # there a select's blank option means "unchanged"
                    assert len(field["enum"]) > 4, f"{path}.{key}: up to 4 options use radio"


# --------------------------------------------------------------------------- the data contract
@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_data_contract(name):
    schema = schema_of(name)
    assert set(schema["properties"]) == set(CONTRACT[name])
    for top, expected in CONTRACT[name].items():
        props = schema["properties"][top]["properties"]
        assert list(props) == list(expected), f"{name}.{top}: keys differ"
        for key, values in expected.items():
            assert props[key].get("enum") == values, f"{name}.{top}.{key}: enum differs"


def test_registration_facts_match_the_rules_engine():
    # core_business_affected is the yes/no the forms asked before 是/否/不确定 (kept for the CLI and
    # for incidents registered with it); the forms ask core_business_impact
    engine = {f for f in Facts.__dataclass_fields__} - {"late_notification", "core_business_affected"}
    assert set(schema_of("register_incident")["properties"]["facts"]["properties"]) == engine - {"designated_emergency"}
    update = set(schema_of("update_facts")["properties"]["update"]["properties"]) - {"note"}
    assert update == engine - {"type", "fault_category"}


def test_update_facts_mirrors_registration_fields():
    reg = schema_of("register_incident")["properties"]["facts"]["properties"]
    upd = schema_of("update_facts")["properties"]["update"]["properties"]
    for key in set(upd) & set(reg):
        assert upd[key]["title"] == reg[key]["title"], key
        assert upd[key]["type"] == reg[key]["type"], key
        assert "default" not in upd[key], f"{key}: absent means unchanged, so no default"
        if reg[key]["type"] == "boolean":
            assert reg[key]["default"] is False, key


def test_notify_channels():
    channels = schema_of("notify_fault")["properties"]["notification"]["properties"]["channels"]
    assert channels["items"]["enum"] == ["sms", "email", "phone", "meeting"]
    assert channels["minItems"] == 1 and channels["uniqueItems"] is True


# --------------------------------------------------------------------------- examples
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
