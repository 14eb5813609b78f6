"""The contract between the incident process and the application (app/process/contract.py): a diagram that
breaks it is refused at publication with a problem naming the element and the fix, new incidents always start
the incident process, and publishing says nothing new when nothing changed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

from app.audit import SYSTEM
from app.engine.model import NS
from app.forms import read_form_files
from app.models import Incident, ProcessVersion, utcnow
from app.process import contract, versions
from app.process.problems import ModelError
from tests.driver import registration
from tests.engine.bpmn_edit import BPMN_FILE, find, process
from tests.process.test_validation import assert_problem, problems_of, variant

FORMS = read_form_files()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "process-model.md"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"

# A diagram another tool drew: bpmn.io's one-task example, made executable, with a form the app has.
FOREIGN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_1"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_1" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="服务台"><bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Task_1</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" name="开始"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_1" name="登记">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="register_incident.schema.json" />
        <spiffworkflow:property name="formUiSchemaFilename" value="register_incident.uischema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" name="结束"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="EndEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1">
    <bpmndi:BPMNShape id="Lane_1_di" bpmnElement="Lane_1"><dc:Bounds x="100" y="50" width="500" height="200" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
      <dc:Bounds x="150" y="100" width="36" height="36" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Task_1_di" bpmnElement="Task_1"><dc:Bounds x="250" y="78" width="100" height="80" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1"><dc:Bounds x="420" y="100" width="36" height="36" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="186" y="118" /><di:waypoint x="250" y="118" />
    </bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="350" y="118" /><di:waypoint x="420" y="118" />
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def bypass(root: etree._Element, node_id: str) -> None:
    """Delete a node with one way in and one way out, joining the flow into it to what followed it (as a
    process owner does in the modeler)."""
    node = find(root, node_id)
    (flow_in,) = root.xpath("//bpmn:sequenceFlow[@targetRef=$id]", id=node_id, namespaces=NS)
    (flow_out,) = root.xpath("//bpmn:sequenceFlow[@sourceRef=$id]", id=node_id, namespaces=NS)
    target = find(root, flow_out.get("targetRef"))
    flow_in.set("targetRef", target.get("id"))
    for incoming in target.findall("bpmn:incoming", NS):
        if incoming.text == flow_out.get("id"):
            incoming.text = flow_in.get("id")
    for gone in (node, flow_out, *root.xpath("//*[@bpmnElement=$a or @bpmnElement=$b]", a=node_id,
                                              b=flow_out.get("id"))):  # fmt: skip
        gone.getparent().remove(gone)
    for ref in root.xpath("//bpmn:flowNodeRef[text()=$id]", id=node_id, namespaces=NS):
        ref.getparent().remove(ref)


def test_the_shipped_diagram_keeps_the_contract():
    root = etree.fromstring(BPMN_FILE.read_bytes())
    assert process(root).get("id") == contract.PROCESS_ID
    assert problems_of(BPMN_FILE.read_bytes()) == []


def test_another_process_id_is_refused_naming_the_process_and_the_fix():
    problems = problems_of(FOREIGN)
    assert_problem(problems, "Process_1", "process id is 'Process_1'", "set the process id back to 'incident_")
    renamed = variant(lambda root: process(root).set("id", "incident_management_v2"))
    assert_problem(problems_of(renamed), "incident_management_v2", "'incident_management'")


def test_publishing_another_process_changes_nothing_for_new_incidents(db, service, actors):
    with pytest.raises(ModelError) as refused, db.transaction() as session:
        versions.publish(session, FOREIGN, FORMS, SYSTEM, "bpmn.io example")
    assert refused.value.problems[0].element_id == "Process_1"
    with db.read() as session:
        assert [v.process_id for v in session.query(ProcessVersion)] == [contract.PROCESS_ID]
    incident_id = service.start(actors["service_desk"], registration=registration())
    with db.read() as session:
        assert session.get(Incident, incident_id).process_version.process_id == contract.PROCESS_ID


def test_new_incidents_start_the_incident_process_even_after_another_was_stored(db, service, actors):
    """A database from before the fix may hold a version of another process: it is never started."""
    with db.transaction() as session:
        old = {"content_hash": "x", "comment": "", "published_by": "old", "published_at": utcnow()}
        session.add(ProcessVersion(process_id="Process_1", version=1, bpmn_xml=FOREIGN, forms_json="{}", **old))
    schema, _ui = service.start_form()
    assert "incident" in schema["properties"]
    incident_id = service.start(actors["service_desk"], registration=registration())
    with db.read() as session:
        assert session.get(Incident, incident_id).process_version.process_id == contract.PROCESS_ID
        assert versions.latest(session).process_id == contract.PROCESS_ID


def test_a_signal_the_application_throws_must_be_caught_under_its_name():
    renamed = variant(lambda root: find(root, "signal_case_updated").set("name", "case_changed"))
    assert_problem(problems_of(renamed), None, "throws the signal 'case_updated'", "catch it")


def test_a_signal_payload_must_arrive_where_the_steps_read_it():
    def rename_variable(root):
        find(root, "signal_tracking_requested").find(".//spiffworkflow:variableName", NS).text = "tracking"

    problems = problems_of(variant(rename_variable))
    assert_problem(problems, "signal_tracking_requested", "'tracking_request'", "found 'tracking'")


def test_a_catch_without_a_thrower_is_refused():
    def unthrown(root):
        for event_id in ("throw_handling_finished", "throw_transfer_finished"):
            find(root, event_id).find("bpmn:signalEventDefinition", NS).set("signalRef", "signal_case_updated")

    problems = problems_of(variant(unthrown))
    # (an owed fault notification is no longer withdrawn when the handling ends: only the warning is)
    assert_problem(
        problems, "warning_withdrawn", "'handling_finished', which nothing throws", "an incident would wait here"
    )


def test_deleting_the_solution_record_is_refused_at_the_confirmation():
    problems = problems_of(variant(lambda root: bypass(root, "record_solution_details")))
    assert_problem(problems, "confirm_resolution", "without the service operation record_solution", "处理中")


def test_an_end_the_process_can_reach_without_closing_is_refused():
    problems = problems_of(variant(lambda root: bypass(root, "record_closure")))
    assert_problem(problems, "end_closed", "without change_transfer / close", "every path to this end")
    # the transfer no longer ends the incident (等待变更); the unanswered confirmation's end closes too
    unreplied = problems_of(variant(lambda root: bypass(root, "record_no_reply_closure")))
    assert_problem(unreplied, "end_closed_no_reply", "without change_transfer / close")


def test_the_classification_lies_on_every_path():
    problems = problems_of(variant(lambda root: bypass(root, "classify_incident")))
    assert any(p.element_id and "without classify" in str(p.message) for p in problems), problems


def test_the_second_line_needs_its_dispatch_before_it():
    def undispatched(root):
        for node_id in ("route_new_incident", "route_pass_on"):
            bypass(root, node_id)

    problems = problems_of(variant(undispatched))
    assert_problem(problems, "second_line_handling", "lane '二线'", "dispatch")


def test_the_registration_task_stays_with_the_service_desk():
    def move(root):
        ref = root.xpath("//bpmn:flowNodeRef[text()='register_incident']", namespaces=NS)[0]
        ref.getparent().remove(ref)
        etree.SubElement(find(root, "lane_first_line"), ref.tag).text = "register_incident"

    assert_problem(problems_of(variant(move)), "register_incident", "lane '服务台'", "(it is in '一线')")
    forms = {**FORMS, "register_incident.schema.json": json.dumps({"type": "object", "properties": {}})}
    assert_problem(problems_of(BPMN_FILE.read_bytes(), forms), "register_incident", "must have the object 'incident'")


def test_the_documentation_states_the_contract_the_code_checks():
    docs = DOCS.read_text(encoding="utf-8")
    section = docs[docs.index("## What the application relies on") :]
    named = [contract.PROCESS_ID, contract.START_LANE, *contract.START_VARIABLES, *contract.FINISHING]
    named += [contract.CLASSIFY, contract.RECORD_SOLUTION, contract.DISPATCH, contract.CONFIRMATION_VARIABLE]
    for signal in contract.THROWN_SIGNALS:
        named += [signal.name, signal.variable]
    assert [name for name in named if f"`{name}`" not in section] == []


# --- honest publishing ------------------------------------------------------------------------------------------


def rewritten(text: str) -> str:
    """The same diagram as another tool writes it: other prefixes, indentation, attribute order, numbers and order of
    the shapes."""
    text = text.replace("bpmn:", "bpmn2:").replace("xmlns:bpmn=", "xmlns:bpmn2=")
    text = re.sub(r'(x|y|width|height)="(\d+)"', r'\1="\2.0"', text)
    text = re.sub(r'exporterVersion="[^"]*"', 'exporterVersion="17.11.1"', text)
    root = etree.fromstring(text.encode())
    for plane in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNPlane"):  # bpmn-js reorders the shapes
        plane[:] = list(reversed(plane))
    etree.indent(root, space="    ")
    return etree.tostring(root, encoding="unicode")


def test_a_diagram_that_says_the_same_publishes_nothing(db, service):
    xml = BPMN_FILE.read_text(encoding="utf-8")
    reformatted = rewritten(xml)
    assert reformatted != xml
    forms = {name: json.dumps(json.loads(text), indent=4) for name, text in FORMS.items()}  # re-indented forms
    with db.transaction() as session:
        version, created = versions.publish(session, reformatted, forms, SYSTEM, "saved unchanged in the modeler")
        assert (version.version, created) == (1, False)
    moved = reformatted.replace('x="222.0" y="102.0"', 'x="230.0" y="102.0"', 1)
    assert moved != reformatted
    with db.transaction() as session:
        version, created = versions.publish(session, moved, forms, SYSTEM, "moved a shape")
        assert (version.version, created) == (2, True)  # the drawing is part of the version (the replay shows it)
