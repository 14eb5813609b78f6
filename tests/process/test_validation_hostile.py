"""Publishing a hostile diagram: code placed anywhere in it, XML attacks, files that are not XML, and diagrams
that could not stop running — each is refused with a problem naming what is wrong, and nothing in it runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from app.engine import model, operations
from app.engine.model import BPMN_NS, NS
from app.engine.runtime import MAX_STEPS, Run, StepBudgetExceeded
from app.process import validation
from app.process.problems import Problem
from app.process.validation import MAX_BPMN_BYTES
from tests.driver import registration
from tests.engine.bpmn_edit import baseline, bpmn, extensions, find, operator, process, spiff, variant
from tests.process.checks import FORMS, assert_problem, problems_of

DOCTYPE = "DOCTYPE"


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
