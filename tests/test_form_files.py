"""The form files in forms/: well-formed, consistent with their UI schemas, and true to the data contract.

Each BPMN user task names `forms/<name>.schema.json` (JSON Schema 2020-12, validated on the server
with Draft202012Validator + FormatChecker) and `forms/<name>.uischema.json` (react-jsonschema-form
UI schema). The process model reads the submitted keys and values, so the contract below is tested
key by key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.rules.facts import Facts
from tests.forms import FORMS_DIR, load, name_of, schema_of

SCHEMA_FILES = sorted(FORMS_DIR.glob("*.schema.json"))
DRAFT = "https://json-schema.org/draft/2020-12/schema"
WIDGETS = {"textarea", "radio", "select", "checkbox", "checkboxes", "hidden"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def handling(outcomes: list[str], next_stages: list[str], **more: list[Any] | None) -> dict[str, Any]:
    """The contract of a handling form: what every stage asks, a change's two fields where it may ask for one."""
    keys: dict[str, list[Any] | None] = {
        "notes": None,
        "outcome": outcomes,
        "next_stage": next_stages,
        "group": ["development", "test", "information_systems"],
        "solution_kind": ["resolved", "workaround"],
        "solution": None,
    }
    if "change" in outcomes:
        keys |= {"change_kind": ["defect", "requirement"], "change_reference": None}
    return {"handling": keys | more}


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
    "initial_support": handling(["resolved", "pass_on"], ["first_line", "second_line", "incident_manager"]),
    "first_line_handling": handling(["resolved", "pass_on"], ["second_line", "incident_manager", "initial_support"]),
    "second_line_handling": handling(
        ["resolved", "pass_on", "change"], ["first_line", "second_line", "incident_manager"]
    ),
    "coordinate_emergency": handling(
        ["resolved", "pass_on", "announce", "change"], ["first_line", "second_line"], announcement=None
    ),
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
