"""Diagrams written for other engines and tools: each thing this engine would not read is named as what it is
(JUEL, FEEL, XPath, Camunda/Zeebe attributes, isExecutable, duplicate ids, the schema's complaints) on its
element, with what to write instead; and whatever is accepted can run (elements, variables, timers)."""

from __future__ import annotations

import pytest
from lxml import etree

from app.engine.model import BPMN_NS, NS
from app.process import foreign
from tests.engine.bpmn_edit import bpmn, find, process
from tests.process.test_validation import assert_problem, problems_of, variant

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"


def condition(root: etree._Element, flow_id: str) -> etree._Element:
    return find(root, flow_id).find("bpmn:conditionExpression", NS)


def set_condition(flow_id: str, text: str):
    return lambda root: setattr(condition(root, flow_id), "text", text)


@pytest.mark.parametrize(
    ("text", "dialect", "python"),
    [
        ("${approved}", "JUEL", "approved"),
        ("#{on_spot.solved && !closed}", "JUEL", "on_spot.solved and not closed"),
        ("= on_spot.solved", "FEEL", "on_spot.solved"),
        ("bpmn:getDataObject('x')/solved", "XPath", None),
    ],
)
def test_another_engines_expression_is_named_with_its_python(text, dialect, python):
    problems = problems_of(variant(set_condition("f_onspot_yes", text)))
    assert_problem(problems, "f_onspot_yes", f"this is a{'n' if dialect == 'XPath' else ''} {dialect} expression")
    if python:
        assert any(str(p).endswith(f": {python}") for p in problems), problems


def test_a_condition_reading_a_variable_nothing_sets_is_refused():
    """`yes` is safe Python, but reads a variable no form or operation sets: every incident would fail there."""
    problems = problems_of(variant(set_condition("f_onspot_yes", "yes")))
    assert_problem(problems, "f_onspot_yes", "reads yes, which is not set on every path to here", "on_spot")


def test_a_variable_set_only_on_some_paths_is_refused():
    """`closure` is set by 关闭事件: a condition before it cannot read it."""
    problems = problems_of(variant(set_condition("f_onspot_yes", 'on_spot["solved"] and closure["code"]')))
    assert_problem(problems, "f_onspot_yes", "reads closure")


def test_variables_set_by_forms_operations_and_signals_are_available():
    # handling (a form) and assessment (an operation) are set before 处理结果; case_update (a signal) after
    # 事件信息更新, on the way to 重新分类与升级
    text = 'handling["outcome"] == "pass_on" and assessment["level"] != "x"'
    assert problems_of(variant(set_condition("f_outcome_pass_on", text))) == []
    text = 'handling["outcome"] == "pass_on" and not case_update'
    assert_problem(
        problems_of(variant(set_condition("f_outcome_pass_on", text))), "f_outcome_pass_on", "reads case_update"
    )


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("PT30M", 'write it as a quoted string, "PT30M"'),
        ("R6/P1D", 'write it as a quoted string, "R6/P1D"'),
        ('"thirty minutes"', "is not an ISO 8601 value of this kind"),
        ("deadline", "reads deadline"),
    ],
)
def test_timers_are_quoted_iso_values_or_expressions_over_set_variables(value, fragment):
    def timer(root):
        (expression,) = find(root, "deadline_warning").xpath(".//bpmn:timeDate", namespaces=NS)
        expression.text = value

    assert_problem(problems_of(variant(timer)), "deadline_warning", fragment)


def test_a_quoted_iso_duration_is_accepted():
    def duration(root):
        (definition,) = find(root, "deadline_warning").xpath("bpmn:timerEventDefinition", namespaces=NS)
        for child in list(definition):
            definition.remove(child)
        bpmn("timeDuration", definition, '"PT30M"')

    assert problems_of(variant(duration)) == []


@pytest.mark.parametrize(
    ("namespace", "attribute", "vendor", "advice"),
    [
        (CAMUNDA, "candidateGroups", "Camunda", "put the task in a lane"),
        (CAMUNDA, "assignee", "Camunda", "put the task in a lane"),
        (CAMUNDA, "formKey", "Camunda", "set the task's form instead"),
        (CAMUNDA, "class", "Camunda", "service task with one of the app's service operations"),
        (CAMUNDA, "asyncBefore", "Camunda", "remove it"),
    ],
)
def test_another_engines_attributes_are_named_with_the_fix(namespace, attribute, vendor, advice):
    variant_xml = variant(lambda root: find(root, "first_line_handling").set(f"{{{namespace}}}{attribute}", "x"))
    problems = problems_of(variant_xml)
    assert_problem(problems, "first_line_handling", f"{vendor}'s {attribute} is not read here", advice)


def test_zeebe_extension_elements_are_named_on_their_task():
    def zeebe(root):
        extensions = find(root, "first_line_handling").find("bpmn:extensionElements", NS)
        etree.SubElement(extensions, f"{{{ZEEBE}}}assignmentDefinition", candidateGroups="ops")

    assert_problem(problems_of(variant(zeebe)), "first_line_handling", "Zeebe's assignmentDefinition", "lane")


def test_harmless_metadata_of_other_tools_is_ignored():
    def metadata(root):
        find(root, "first_line_handling").set(f"{{{CAMUNDA}}}versionTag", "3")
        root.set(f"{{{CAMUNDA}}}historyTimeToLive", "180")
        find(root, "first_line_handling").set("{http://www.signavio.com}signavioLabel", "x")

    assert problems_of(variant(metadata)) == []


def test_a_process_that_is_not_executable_is_named_and_every_other_problem_shown():
    def foreign_export(root):
        process(root).set("isExecutable", "false")
        find(root, "lane_first_line").set("name", "三线")

    problems = problems_of(variant(foreign_export))
    assert_problem(problems, "incident_management", 'isExecutable="false"', "mark it executable")
    assert_problem(problems, "lane_first_line", "'三线'")  # not hidden behind the first problem


def test_a_second_process_is_named():
    def second(root):
        other = bpmn("process", None, id="Process_other", isExecutable="true")
        start, end = bpmn("startEvent", other, id="other_start"), bpmn("endEvent", other, id="other_end")
        bpmn("outgoing", start, "other_flow"), bpmn("incoming", end, "other_flow")
        bpmn("sequenceFlow", other, id="other_flow", sourceRef="other_start", targetRef="other_end")
        process(root).addnext(other)

    problems = problems_of(variant(second))
    assert_problem(problems, "Process_other", "a second process", "only one process runs here (incident_management)")


def test_duplicate_ids_are_named_by_id_with_their_lines():
    def duplicate(root):
        find(root, "close_incident").set("id", "first_line_handling")

    problems = problems_of(variant(duplicate))
    assert_problem(problems, "first_line_handling", "the id 'first_line_handling' is used by 2 elements", "lines")
    assert not any("xs:ID" in str(p) or "{http" in str(p) for p in problems)


def test_schema_errors_name_their_element_without_namespace_uris():
    def misplaced(root):
        task = find(root, "first_line_handling")
        etree.SubElement(task, f"{{{BPMN_NS}}}timeDate").text = '"PT1H"'

    problems = problems_of(variant(misplaced))
    assert problems and all(p.element_id for p in problems)
    assert_problem(problems, "first_line_handling", "bpmn:timeDate", "This element is not expected")
    assert not any("{http" in str(p) for p in problems)


def test_a_receive_task_waiting_for_a_message_nobody_sends_is_refused():
    def receive(root):
        task = find(root, "first_line_handling")
        task.tag = f"{{{BPMN_NS}}}receiveTask"
        for extension in task.findall("bpmn:extensionElements", NS):
            task.remove(extension)

    assert_problem(problems_of(variant(receive)), "first_line_handling", "waits for a message that nothing sends")


def test_unquoted_iso_and_dialects_are_recognised():
    assert foreign.unquoted_iso("PT30M") and foreign.unquoted_iso("2026-03-02T09:00:00Z")
    assert not foreign.unquoted_iso('"PT30M"') and not foreign.unquoted_iso('deadline_timers["warn_at"]')
    assert foreign.dialect('handling["outcome"] == "x"') is None
