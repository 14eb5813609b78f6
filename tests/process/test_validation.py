"""Publishing a diagram: the shipped one is accepted; each broken or hostile variant of it gets a problem that
names the offending element and says what is wrong — and nothing in it runs while it is checked."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from app.engine.model import BPMN_NS, NS
from app.process import validation
from app.process.problems import ModelError
from tests.engine.bpmn_edit import baseline, bpmn, find, operator, process, rename_id, spiff, variant
from tests.process.checks import FORMS, assert_problem, problems_of

USER_TASK_LANES = {
    "register_incident": "服务台",
    "initial_support": "服务台",
    "first_line_handling": "一线",
    "second_line_handling": "二线",
    "coordinate_emergency": "事件经理",
    "confirm_resolution": "事件提出人",
    "close_incident": "服务台",
    "follow_up_confirmation": "服务台",
    "follow_up_warning": "事件经理",
    "follow_up_breach": "事件经理",
    "track_incident": "事件经理",
    "notify_fault": "事件经理",
}


# --- the shipped diagram --------------------------------------------------------------------------------------


def test_shipped_diagram_is_valid():
    assert problems_of(baseline()) == []


def test_user_tasks_get_the_lane_that_lists_them():
    loaded = validation.load(baseline(), FORMS)
    assert {task_id: info.lane for task_id, info in loaded.user_tasks.items()} == USER_TASK_LANES
    assert set(USER_TASK_LANES.values()) == {"服务台", "一线", "二线", "事件经理", "事件提出人"}
    assert loaded.form("first_line_handling")[0]["type"] == "object"
    # SpiffWorkflow puts the tasks of the embedded sub-process in the sub-process's lane; the model does not.
    sub_process_lane = loaded.lanes["handle_incident"]
    inner_specs = loaded.subprocess_specs["handle_incident"].task_specs
    inner = ("initial_support", "first_line_handling", "second_line_handling", "coordinate_emergency")
    assert {inner_specs[task_id].lane for task_id in inner} == {sub_process_lane}
    assert len({loaded.user_tasks[task_id].lane for task_id in inner}) == 4


def test_load_raises_the_same_problems_validate_lists():
    broken = variant(lambda root: find(root, "lane_first_line").set("name", "三线"))
    with pytest.raises(ModelError) as refused:
        validation.load(broken, FORMS)
    assert refused.value.problems == problems_of(broken)
    assert "lane_first_line" in str(refused.value)


def test_a_document_is_parsed_once_and_a_refusal_is_never_kept():
    assert validation.load(baseline(), FORMS) is validation.load(baseline(), FORMS)  # the same content: the same model
    relabelled = variant(lambda root: find(root, "first_line_handling").set("name", "一线处理"))
    assert validation.load(relabelled, FORMS) is not validation.load(baseline(), FORMS)
    other_forms = {**FORMS, "notify_fault.schema.json": "{not json"}
    for _ in range(2):  # refused each time, not remembered as loaded
        with pytest.raises(ModelError, match="notify_fault.schema.json"):
            validation.load(baseline(), other_forms)


# --- lanes -----------------------------------------------------------------------------------------------------


def test_unknown_lane_is_named():
    problems = problems_of(variant(lambda root: find(root, "lane_first_line").set("name", "三线")))
    assert_problem(problems, "lane_first_line", "'三线'", "not known")


def unlist(root, task_id="notify_fault"):
    (ref,) = root.xpath("//bpmn:flowNodeRef[text()=$id]", id=task_id, namespaces=NS)
    ref.getparent().remove(ref)


def test_a_task_no_lane_lists_is_in_the_lane_it_is_drawn_in():
    """bpmn-js lists nothing for what is drawn inside an expanded sub-process that spans lanes."""
    unlisted = variant(lambda root: [unlist(root, task) for task in ("notify_fault", "second_line_handling")])
    assert problems_of(unlisted) == []
    loaded = validation.load(unlisted, FORMS)
    assert loaded.lanes["notify_fault"] == "事件经理" and loaded.lanes["second_line_handling"] == "二线"
    root = etree.fromstring(unlisted)
    assert validation.lanes_of(process(root))[1] == {"notify_fault", "second_line_handling"}


def test_user_task_in_no_lane_is_named():
    def outside(root):
        unlist(root)
        (bounds,) = root.xpath("//*[@bpmnElement='notify_fault']/*[local-name()='Bounds']")
        bounds.set("x", "-5000")

    assert_problem(problems_of(variant(outside)), "notify_fault", "not in any lane")


# --- service tasks ---------------------------------------------------------------------------------------------


def unknown_operation(root):
    operator(root, "classify_incident").set("id", "shell")


def renamed_parameter(root):
    operator(root, "classify_incident").find(".//spiffworkflow:parameter", NS).set("id", "command")


def extra_parameter(root):
    parameters = operator(root, "classify_incident").find("spiffworkflow:parameters", NS)
    spiff("parameter", parameters, id="extra", type="any", value='"x"')


def no_result_variable(root):
    del operator(root, "classify_incident").attrib["resultVariable"]


def no_operator(root):
    ops = operator(root, "classify_incident")
    ops.getparent().remove(ops)


def operation_named_like_an_element(root):  # SpiffWorkflow would resolve flows to the operator
    rename_id(root, "classify_incident", "classify")


@pytest.mark.parametrize(
    ("mutate", "element_id", "fragments"),
    [
        pytest.param(unknown_operation, "classify_incident", ("unknown service operation 'shell'",), id="unknown"),
        pytest.param(renamed_parameter, "classify_incident", ("'classify' takes parameters: facts",), id="wrong-param"),
        pytest.param(extra_parameter, "classify_incident", ("'classify' takes parameters: facts",), id="extra-param"),
        pytest.param(no_result_variable, "classify_incident", ("needs a result variable",), id="no-result-variable"),
        pytest.param(no_operator, "classify_incident", ("exactly one service operation",), id="no-operation"),
        pytest.param(operation_named_like_an_element, "classify", ("'classify' is also an element id",), id="id-clash"),
    ],
)
def test_service_task_problems_are_named(mutate, element_id, fragments):
    assert_problem(problems_of(variant(mutate)), element_id, *fragments)


# --- forms -----------------------------------------------------------------------------------------------------


def test_user_task_without_form_properties():
    def strip(root):
        props = find(root, "register_incident").find("bpmn:extensionElements/spiffworkflow:properties", NS)
        props.getparent().remove(props)

    assert_problem(problems_of(variant(strip)), "register_incident", "formJsonSchemaFilename")


SCHEMA = "register_incident.schema.json"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param(None, f"form file '{SCHEMA}' is missing", id="missing"),
        pytest.param('{"type": "object",', f"form file '{SCHEMA}' is not valid JSON", id="invalid-json"),
        pytest.param("[]", f"form file '{SCHEMA}' must contain a JSON object", id="not-an-object"),
        pytest.param(
            json.dumps({"type": "object", "properties": {"x": {"type": "nope"}}}),
            f"form file '{SCHEMA}' is not a valid JSON Schema",
            id="invalid-schema",
        ),
        pytest.param('{"type": "string"}', f"form file '{SCHEMA}' must describe an object", id="not-object-schema"),
    ],
)
def test_form_problems_name_the_task(content, fragment):
    forms = {name: text for name, text in FORMS.items() if name != SCHEMA}
    if content is not None:
        forms[SCHEMA] = content
    assert_problem(problems_of(baseline(), forms), "register_incident", fragment)


# --- what the engine cannot run --------------------------------------------------------------------------------


def test_signal_end_event_is_refused():
    def signal_end(root):
        bpmn("signalEventDefinition", find(root, "end_closed"), id="end_closed_signal", signalRef="signal_case_updated")

    assert_problem(problems_of(variant(signal_end)), "end_closed", "signal endEvent is not supported")


@pytest.mark.parametrize(
    ("tag", "attrs", "fragment"),
    [
        pytest.param(
            "callActivity", {"calledElement": "other_process"}, "call activities are not supported", id="call"
        ),
        pytest.param("businessRuleTask", {}, "business rule (DMN) tasks are not supported", id="dmn"),
    ],
)
def test_unsupported_activities_are_refused(tag, attrs, fragment):
    problems = problems_of(variant(lambda root: bpmn(tag, process(root), id="rogue_activity", **attrs)))
    assert_problem(problems, "rogue_activity", fragment)


# --- schema and several problems -------------------------------------------------------------------------------


def test_schema_violations_are_all_listed_with_their_lines():
    def add_unknown_elements(root):
        bpmn("bogus", process(root))
        bpmn("nonsense", find(root, "register_incident"))

    text = variant(add_unknown_elements)
    tree = etree.fromstring(text)
    lines = {
        etree.QName(el).localname: el.sourceline for el in tree.iter(f"{{{BPMN_NS}}}bogus", f"{{{BPMN_NS}}}nonsense")
    }
    problems = problems_of(text)
    assert len(problems) == 2
    for name, line in lines.items():
        assert any(re.match(rf"line {line}: Element .*\b{name}'", str(p.message)) for p in problems), (name, problems)


def test_independent_problems_are_all_listed():
    def break_four_things(root):
        bpmn("script", bpmn("scriptTask", process(root), id="rogue_script", scriptFormat="python"), "pass")
        find(root, "lane_first_line").set("name", "三线")
        unknown_operation(root)
        find(root, "end_closed").append(bpmn("signalEventDefinition", signalRef="signal_case_updated"))

    forms = {name: text for name, text in FORMS.items() if name != SCHEMA}
    problems = problems_of(variant(break_four_things), forms)
    assert {p.element_id for p in problems} >= {
        "rogue_script",
        "lane_first_line",
        "classify_incident",
        "end_closed",
        "register_incident",
    }
