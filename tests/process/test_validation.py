"""Publishing a diagram: the shipped one is accepted; each broken or hostile variant of it gets a problem that
names the offending element and says what is wrong — and nothing in it runs while it is checked."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from app.engine import model, operations
from app.engine.model import BPMN_NS, NS, SPIFF_NS
from app.engine.runtime import MAX_STEPS, Run, StepBudgetExceeded
from app.forms import read_form_files
from app.process import validation
from app.process.problems import ModelError, Problem
from app.process.validation import MAX_BPMN_BYTES
from tests.driver import registration
from tests.engine.bpmn_edit import BPMN_FILE, bpmn, find, process

FORMS = read_form_files()
DOCTYPE = "DOCTYPE"

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


def baseline() -> bytes:
    return BPMN_FILE.read_bytes()


def variant(mutate: Callable[[etree._Element], object]) -> bytes:
    """The shipped diagram, changed by `mutate(root)`."""
    root = etree.fromstring(baseline())
    mutate(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def spiff(tag: str, parent: etree._Element, text: str | None = None, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{SPIFF_NS}}}{tag}", attrs)
    element.text = text
    return element


def extensions(element: etree._Element) -> etree._Element:
    found = element.find("bpmn:extensionElements", NS)
    if found is None:
        found = bpmn("extensionElements")
        element.insert(0, found)
    return found


def operator(root: etree._Element, task_id: str) -> etree._Element:
    return find(root, task_id).find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)


def rename_id(root: etree._Element, old: str, new: str) -> None:
    """Rename an element and every reference to it (flows, lanes, diagram)."""
    for element in root.iter(etree.Element):
        for name, value in element.attrib.items():
            if value == old:
                element.set(name, new)
        if element.text is not None and element.text.strip() == old:
            element.text = new


def problems_of(text: bytes | str, forms=FORMS) -> list[Problem]:
    problems = validation.validate(text, forms)
    assert all(isinstance(problem, Problem) for problem in problems)
    return problems


def assert_problem(problems: list[Problem], element_id: str | None, *fragments: str) -> None:
    matching = [p for p in problems if p.element_id == element_id and all(f in str(p.message) for f in fragments)]
    assert matching, f"no problem for {element_id!r} saying {fragments!r} in {problems!r}"


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


# --- code in the diagram is refused, and never runs -----------------------------------------------------------


def set_text(path: str) -> Callable[[etree._Element, str], object]:
    def mutate(root: etree._Element, code: str) -> None:
        (element,) = root.xpath(path, namespaces=NS)
        element.text = code

    return mutate


def set_parameter(root: etree._Element, code: str) -> None:
    operator(root, "classify_incident").find(".//spiffworkflow:parameter", NS).set("value", code)


def add_script_task(root: etree._Element, code: str) -> None:  # not connected to anything: still refused
    bpmn("script", bpmn("scriptTask", process(root), id="rogue_script", scriptFormat="python"), code)


def add_pre_script(root: etree._Element, code: str) -> None:
    spiff("preScript", extensions(find(root, "register_incident")), code)


def add_post_script(root: etree._Element, code: str) -> None:
    spiff("postScript", extensions(find(root, "classify_incident")), code)


def add_loop_condition(root: etree._Element, code: str) -> None:
    bpmn("loopCondition", bpmn("standardLoopCharacteristics", find(root, "classify_incident")), code)


def add_conditional_event(root: etree._Element, code: str) -> None:
    event = bpmn("intermediateCatchEvent", process(root), id="rogue_condition")
    bpmn("condition", bpmn("conditionalEventDefinition", event), code)


def add_correlation_property(root: etree._Element, code: str) -> None:
    # SpiffWorkflow evaluates correlation expressions with an unrestricted eval, outside the script engine.
    root.insert(1, bpmn("message", id="rogue_message", name="rogue_message"))
    prop = bpmn("correlationProperty", id="rogue_correlation", name="case_id")
    retrieval = bpmn("correlationPropertyRetrievalExpression", prop, messageRef="rogue_message")
    bpmn("formalExpression", retrieval, code)
    root.insert(1, prop)


def add_correlation_in_comment(root: etree._Element, code: str) -> None:
    """SpiffWorkflow takes the text of the retrieval expression's first child node: a comment will do."""
    add_correlation_property(root, "1")
    (retrieval,) = root.xpath("//bpmn:correlationPropertyRetrievalExpression", namespaces=NS)
    retrieval.insert(0, etree.Comment(code))


def add_process_correlation(root: etree._Element, code: str) -> None:
    event = bpmn("intermediateCatchEvent", process(root), id="rogue_catch")
    definition = bpmn("messageEventDefinition", event, messageRef="rogue_message")
    correlation = spiff("processVariableCorrelation", extensions(definition))
    spiff("propertyId", correlation, "case_id")
    spiff("expression", correlation, code)
    root.insert(1, bpmn("message", id="rogue_message", name="rogue_message"))


CODE_PLACES = [
    pytest.param(
        set_text("//bpmn:sequenceFlow[@id='f_onspot_yes']/bpmn:conditionExpression"),
        "f_onspot_yes",
        "conditionExpression",
        id="gateway-condition",
    ),
    pytest.param(
        set_text("//bpmn:boundaryEvent[@id='deadline_warning']//bpmn:timeDate"),
        "deadline_warning",
        "timeDate",
        id="timer-date",
    ),
    pytest.param(set_parameter, "classify_incident", "parameter facts", id="service-parameter"),
    pytest.param(
        set_text("//bpmn:signal[@id='signal_case_updated']//spiffworkflow:payloadExpression"),
        "signal_case_updated",
        "payloadExpression",
        id="signal-payload",
    ),
    pytest.param(add_script_task, "rogue_script", "script tasks are not allowed", id="script-task"),
    pytest.param(add_pre_script, "register_incident", "pre-scripts are not allowed", id="pre-script"),
    pytest.param(add_post_script, "classify_incident", "post-scripts are not allowed", id="post-script"),
    pytest.param(add_loop_condition, "classify_incident", "loopCondition", id="loop-condition"),
    pytest.param(add_conditional_event, "rogue_condition", "condition", id="conditional-event"),
    pytest.param(add_correlation_property, "rogue_correlation", "correlation expression", id="correlation-property"),
    pytest.param(add_correlation_in_comment, "rogue_correlation", "correlation expression", id="correlation-comment"),
    pytest.param(add_process_correlation, "rogue_catch", "expression", id="process-variable-correlation"),
]


@pytest.mark.parametrize(("place", "element_id", "what"), CODE_PLACES)
def test_code_in_the_diagram_is_refused_and_not_run(tmp_path, place, element_id, what):
    marker = tmp_path / "pwned"
    code = f'__import__("os").system("touch {marker}")'
    problems = problems_of(variant(lambda root: place(root, code)))
    assert_problem(problems, element_id, what)
    if "script" not in what:  # expressions: the message quotes the expression and names the first bad construct
        assert_problem(problems, element_id, code, "is not allowed")
    assert not marker.exists()


# --- XML attacks and unreadable files ------------------------------------------------------------------------


def with_doctype(internal_subset: str, entity: str) -> bytes:
    declaration, rest = baseline().decode("utf-8").split("\n", 1)
    assert declaration.startswith("<?xml")
    rest = rest.replace('name="事件登记"', f'name="&{entity};"', 1)  # used in an attribute …
    rest = rest.replace(
        "<bpmn:flowNodeRef>notify_fault</bpmn:flowNodeRef>", f"<bpmn:flowNodeRef>&{entity};</bpmn:flowNodeRef>", 1
    )  # … and in text
    return f"{declaration}\n<!DOCTYPE bpmn:definitions [{internal_subset}]>\n{rest}".encode()


def test_external_entity_is_refused_and_the_file_is_not_read():
    problems = problems_of(with_doctype('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "xxe"))
    assert problems == [Problem(validation.NO_DOCTYPE)]
    assert DOCTYPE in str(problems[0].message)
    secret_lines = [line for line in Path("/etc/passwd").read_text().splitlines() if line.strip()]
    assert secret_lines and not any(line in str(problems) for line in secret_lines)


def test_external_entity_only_in_text_is_refused():
    text = (
        baseline()
        .decode("utf-8")
        .replace("<bpmn:flowNodeRef>notify_fault</bpmn:flowNodeRef>", "<bpmn:flowNodeRef>&xxe;</bpmn:flowNodeRef>", 1)
    )
    declaration, rest = text.split("\n", 1)
    document = f'{declaration}\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n{rest}'
    assert [DOCTYPE in str(p.message) for p in problems_of(document)] == [True]


def test_entity_bomb_is_refused_quickly():
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )  # &lol9; would expand to 3 GB of text
    started = time.perf_counter()
    problems = problems_of(with_doctype(entities, "lol9"))
    assert time.perf_counter() - started < 2
    assert [DOCTYPE in str(p.message) for p in problems] == [True]


def test_oversized_file_is_refused_before_parsing():
    padding = b"<!--" + b"x" * MAX_BPMN_BYTES + b"-->"
    problems = problems_of(baseline().replace(b"</bpmn:definitions>", padding + b"</bpmn:definitions>"))
    assert [str(p) for p in problems] == [f"the file is larger than {MAX_BPMN_BYTES // 1_000_000} MB"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("this is not XML", id="plain-text"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", id="binary"),
        pytest.param("<bpmn:definitions><bpmn:process></bpmn:definitions>", id="unclosed-tag"),
        pytest.param("", id="empty"),
    ],
)
def test_file_that_is_not_xml_is_refused(text):
    problems = problems_of(text)
    assert len(problems) == 1 and str(problems[0]).startswith("not well-formed XML")


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
        add_script_task(root, "pass")
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


# --- diagrams that cannot run (docs/security.md) --------------------------------------------------------------


def as_manual_task(root: etree._Element, *, keep_form: bool) -> None:
    task = find(root, "notify_fault")
    task.tag = f"{{{BPMN_NS}}}manualTask"
    if not keep_form:
        task.remove(task.find("bpmn:extensionElements", NS))


def test_a_manual_task_needs_a_form_like_a_user_task():
    assert_problem(problems_of(variant(lambda root: as_manual_task(root, keep_form=False))), "notify_fault",
                   "manualTask waits for a person", "needs a form")  # fmt: skip
    with_form = variant(lambda root: as_manual_task(root, keep_form=True))
    assert problems_of(with_form) == []
    assert validation.load(with_form, FORMS).form("notify_fault")[0]["type"] == "object"  # the task page has its form


def loop_back(root: etree._Element) -> None:
    """The on-the-spot gateway sends an unsolved incident back to classification: nothing waits in between."""
    flow = bpmn(
        "sequenceFlow", process(root), id="f_again", sourceRef="gw_solved_on_spot", targetRef="classify_incident"
    )
    bpmn("conditionExpression", flow, 'on_spot["solved"] == False')
    bpmn("outgoing", find(root, "gw_solved_on_spot"), "f_again")
    classify = find(root, "classify_incident")
    classify.insert(classify.index(classify.find("bpmn:outgoing", NS)), bpmn("incoming", text="f_again"))


def test_a_loop_with_nothing_to_wait_at_is_refused():
    problems = problems_of(variant(loop_back))
    assert_problem(problems, "classify_incident", "loop with no user task or timer", "事件分类, 现场已解决?")


def test_a_loop_through_a_wait_is_accepted():
    def through_a_timer(root):
        loop_back(root)
        timer = bpmn("intermediateCatchEvent", process(root), id="wait_a_minute", name="等一分钟")
        bpmn("timeDuration", bpmn("timerEventDefinition", timer), '"PT1M"')
        find(root, "f_again").set("targetRef", "wait_a_minute")
        bpmn("sequenceFlow", process(root), id="f_after_wait", sourceRef="wait_a_minute", targetRef="classify_incident")

    assert not [p for p in problems_of(variant(through_a_timer)) if "loop with no" in str(p.message)]
    assert problems_of(baseline()) == []  # the shipped diagram loops only through user tasks (reopen, new facts)


def test_the_engine_stops_a_loop_after_its_step_budget():
    """Should a loop get past the check, the engine stops it instead of running on under the write lock."""
    looping = validation.parse_xml(variant(loop_back))
    loaded = model.ProcessModel("incident_management", *model.build_specs(looping, "incident_management"), {}, {}, {})
    run = Run.start(loaded, operations.Context(datetime(2026, 3, 2, tzinfo=UTC)), {})
    (registration_task,) = run.ready_tasks()
    with pytest.raises(StepBudgetExceeded, match=f"ran {MAX_STEPS} steps"):
        run.complete(registration_task.id, registration())  # not solved on the spot: round and round


def test_a_diagram_with_too_many_elements_is_refused_before_any_check():
    def grow(root):
        for number in range(validation.MAX_ELEMENTS):
            bpmn("textAnnotation", process(root), id=f"note_{number}")

    problems = problems_of(variant(grow))
    assert len(problems) == 1 and "at most 10000 are accepted" in str(problems[0])


def test_validation_is_kept_per_content(monkeypatch):
    checked = []
    original = validation._build

    def counting(text, forms, *, publishing):
        checked.append(1)
        return original(text, forms, publishing=publishing)

    monkeypatch.setattr(validation, "_build", counting)
    broken = variant(lambda root: find(root, "lane_first_line").set("name", "四线"))
    first = problems_of(broken)
    assert problems_of(broken) == first and len(checked) == 1  # a draft page shown again checks nothing again
