"""bpmnlint's recommended errors, ported: the shipped diagram is clean; each rule fires on a minimal variant of it
and names the offending element; what the rule leaves alone stays clean — and, where Node is installed, bpmnlint
itself reports exactly the same (rule, element) pairs for every variant."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from app.engine.model import BPMN_NS, NS
from app.forms import read_form_files
from app.process import lint, validation
from app.process.problems import Problem
from tests.engine.bpmn_edit import BPMN_FILE, DI, bpmn, find, process
from tests.engine.bpmnlint_cli import run_bpmnlint

# --- building variants of the shipped diagram -----------------------------------------------------------------


def shipped() -> etree._Element:
    return etree.fromstring(BPMN_FILE.read_bytes())


def plane(root: etree._Element) -> etree._Element:
    return root.find(".//bpmndi:BPMNPlane", DI)


def retag(root: etree._Element, element_id: str, tag: str) -> None:
    find(root, element_id).tag = f"{{{BPMN_NS}}}{tag}"


def remove(root: etree._Element, *element_ids: str) -> None:
    """Remove elements with their drawing and every reference to them."""
    for element_id in element_ids:
        find(root, element_id).getparent().remove(find(root, element_id))
        for element in root.xpath(
            "//*[@bpmnElement=$id] | //bpmn:*[normalize-space(text())=$id]", id=element_id, namespaces=NS
        ):
            element.getparent().remove(element)


def draw_shape(root: etree._Element, element_id: str, x: float, y: float, width: float = 100, height: float = 80):
    shape = etree.SubElement(plane(root), f"{{{DI['bpmndi']}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id)
    etree.SubElement(shape, f"{{{DI['dc']}}}Bounds", x=str(x), y=str(y), width=str(width), height=str(height))


def connect(root: etree._Element, flow_id: str, source: str, target: str, **attrs: str) -> etree._Element:
    """A drawn sequence flow, listed in the outgoing and incoming of its ends."""
    flow = bpmn("sequenceFlow", find(root, source).getparent(), id=flow_id, sourceRef=source, targetRef=target, **attrs)
    for end, listing in ((source, "outgoing"), (target, "incoming")):
        node = find(root, end)
        anchor = node.findall(f"bpmn:{listing}", NS) or node.findall("bpmn:incoming", NS)
        ref = etree.Element(f"{{{BPMN_NS}}}{listing}")
        ref.text = flow_id
        if anchor:
            anchor[-1].addnext(ref)
        else:
            node.insert(len(node.findall("bpmn:extensionElements", NS)), ref)
    edge = etree.SubElement(plane(root), f"{{{DI['bpmndi']}}}BPMNEdge", id=f"{flow_id}_di", bpmnElement=flow_id)
    for x in (0, 10):
        etree.SubElement(edge, f"{{{DI['di']}}}waypoint", x=str(x), y="0")
    return flow


def add_task(root: etree._Element, task_id: str, name: str) -> etree._Element:
    task = bpmn("task", process(root), id=task_id, name=name)
    draw_shape(root, task_id, 2400, 1300)
    return task


def lint_pairs(root: etree._Element) -> list[tuple[str, str | None]]:
    problems = lint.lint(root)
    assert all(isinstance(p, Problem) and re.match(r"[a-z-]+: \S", str(p.message)) for p in problems), problems
    assert all(str(p.message).split(":", 1)[0] == p.message.params["rule"] for p in problems), problems
    return [(str(p.message).split(":", 1)[0], p.element_id) for p in problems]


# --- the variants: each breaks one thing; the lint problems it gets, exactly ------------------------------------


def no_condition_on_a_branch(root):  # the other branch of the gateway has one
    find(root, "f_onspot_no").remove(find(root, "f_onspot_no").find("bpmn:conditionExpression", NS))


def sub_process_without_end(root):
    retag(root, "handling_end", "intermediateThrowEvent")


def event_based_gateway_with_conditions(root):
    retag(root, "gw_solved_on_spot", "eventBasedGateway")


def event_based_gateway_with_one_flow(root):
    retag(root, "merge_handling", "eventBasedGateway")


def event_sub_process_with_blank_start(root):
    find(root, "handle_incident").set("triggeredByEvent", "true")


def unnamed(element_id: str) -> Callable[[etree._Element], None]:
    def mutate(root):
        del find(root, element_id).attrib["name"]

    mutate.__name__ = f"unnamed_{element_id}"
    return mutate


def blank_name(root):
    find(root, "gw_route").set("name", " \u3000 ")


def link_throw(name: str | None) -> Callable[[etree._Element], None]:
    def mutate(root):
        event = find(root, "throw_transfer_finished")
        event.remove(event.find("bpmn:signalEventDefinition", NS))
        bpmn("linkEventDefinition", event, id="transfer_link", **({"name": name} if name else {}))

    return mutate


def link_pair(root):  # a throw and a catch of the same name: fine
    link_throw("to_end")(root)
    remove(root, "f_transfer_end")
    catch = bpmn("intermediateCatchEvent", process(root), id="catch_transfer", name="转到结束")
    bpmn("linkEventDefinition", catch, id="catch_transfer_link", name="to_end")
    draw_shape(root, "catch_transfer", 2280, 752, 36, 36)
    connect(root, "f_catch_end", "catch_transfer", "wait_change_done")


def two_link_catches(root):
    link_pair(root)
    catch = bpmn("intermediateCatchEvent", process(root), id="catch_again", name="再次转到结束")
    bpmn("linkEventDefinition", catch, id="catch_again_link", name="to_end")
    draw_shape(root, "catch_again", 2280, 652, 36, 36)
    connect(root, "f_again_end", "catch_again", "wait_change_done")


def undrawn(element_id: str) -> Callable[[etree._Element], None]:
    def mutate(root):
        shape = root.xpath("//*[@bpmnElement=$id]", id=element_id)[0]
        shape.getparent().remove(shape)

    mutate.__name__ = f"undrawn_{element_id}"
    return mutate


def complex_gateway(root):
    retag(root, "merge_handling", "complexGateway")


def stray_task(root):
    add_task(root, "stray_task", "孤立任务")


def duplicate_flow(root):
    connect(root, "f_register_classify_again", "register_incident", "classify_incident")


def gateway_joins_and_forks(root):
    connect(root, "f_merge_extra", "merge_handling", "end_no_notification")


def implicit_split(root):
    connect(root, "f_register_extra", "register_incident", "end_closed_on_spot")


def flow_removed(flow_id: str) -> Callable[[etree._Element], None]:
    def mutate(root):
        remove(root, flow_id)

    mutate.__name__ = f"without_{flow_id}"
    return mutate


def dangling_outgoing_ref(root):  # the flow no longer exists: the reference counts for nothing
    remove(root, "f_onspot_end")
    ref = bpmn("outgoing", find(root, "record_on_spot_closure"), "f_onspot_end")
    find(root, "record_on_spot_closure").find("bpmn:incoming", NS).addnext(ref)


def second_blank_start(root):
    start = bpmn("startEvent", process(root), id="second_start", name="另一个开始")
    process(root).insert(process(root).index(find(root, "start_incident")) + 1, start)
    draw_shape(root, "second_start", 300, 102, 36, 36)
    connect(root, "f_second_start", "second_start", "merge_handling")


def two_event_definitions(root):
    bpmn("signalEventDefinition", find(root, "deadline_warning"), id="extra_signal", signalRef="signal_case_updated")


def sub_process_without_start(root):
    retag(root, "handling_start", "intermediateThrowEvent")


def typed_sub_process_start(root):
    bpmn("signalEventDefinition", find(root, "handling_start"), id="start_signal", signalRef="signal_case_updated")


def ad_hoc_sub_process(root):
    retag(root, "handle_incident", "adHocSubProcess")


VARIANTS = [
    pytest.param(no_condition_on_a_branch, [("conditional-flows", "f_onspot_no")], id="conditional-flows"),
    pytest.param(
        sub_process_without_end,
        [("end-event-required", "handle_incident"), ("no-implicit-end", "handling_end")],
        id="end-event-required",
    ),
    pytest.param(
        event_based_gateway_with_conditions,
        [("event-based-gateway", "f_onspot_yes"), ("event-based-gateway", "f_onspot_no")],
        id="event-based-gateway-conditions",
    ),
    pytest.param(
        event_based_gateway_with_one_flow, [("event-based-gateway", "merge_handling")], id="event-based-gateway-one"
    ),
    pytest.param(
        event_sub_process_with_blank_start,
        [("event-sub-process-typed-start-event", "handling_start")],
        id="event-sub-process-typed-start-event",
    ),
    pytest.param(unnamed("register_incident"), [("label-required", "register_incident")], id="label-task"),
    pytest.param(unnamed("end_closed"), [("label-required", "end_closed")], id="label-end-event"),
    pytest.param(unnamed("deadline_warning"), [("label-required", "deadline_warning")], id="label-boundary"),
    pytest.param(unnamed("gw_route"), [("label-required", "gw_route")], id="label-forking-gateway"),
    pytest.param(blank_name, [("label-required", "gw_route")], id="label-blank"),
    pytest.param(unnamed("f_onspot_yes"), [("label-required", "f_onspot_yes")], id="label-conditional-flow"),
    pytest.param(unnamed("lane_first_line"), [("label-required", "lane_first_line")], id="label-lane"),
    pytest.param(unnamed("incident_pool"), [("label-required", "incident_pool")], id="label-participant"),
    pytest.param(link_throw(None), [("link-event", "throw_transfer_finished")], id="link-event-unnamed"),
    pytest.param(link_throw("to_end"), [("link-event", "throw_transfer_finished")], id="link-event-no-catch"),
    pytest.param(
        two_link_catches,
        [("link-event", "catch_transfer"), ("link-event", "catch_again")],
        id="link-event-two-catches",
    ),
    pytest.param(undrawn("register_incident"), [("no-bpmndi", "register_incident")], id="no-bpmndi-task"),
    pytest.param(undrawn("f_route_first"), [("no-bpmndi", "f_route_first")], id="no-bpmndi-nested-flow"),
    pytest.param(undrawn("lane_second_line"), [("no-bpmndi", "lane_second_line")], id="no-bpmndi-lane"),
    pytest.param(undrawn("incident_pool"), [("no-bpmndi", "incident_pool")], id="no-bpmndi-participant"),
    pytest.param(
        undrawn("ref_deadline_notices_arm"), [("no-bpmndi", "ref_deadline_notices_arm")], id="no-bpmndi-data-ref"
    ),
    pytest.param(complex_gateway, [("no-complex-gateway", "merge_handling")], id="no-complex-gateway"),
    pytest.param(
        stray_task,
        [("no-disconnected", "stray_task"), ("no-implicit-end", "stray_task"), ("no-implicit-start", "stray_task")],
        id="no-disconnected",
    ),
    pytest.param(
        duplicate_flow,
        [
            ("no-duplicate-sequence-flows", "f_register_classify_again"),
            ("no-duplicate-sequence-flows", "register_incident"),
            ("no-duplicate-sequence-flows", "classify_incident"),
            ("no-implicit-split", "register_incident"),
        ],
        id="no-duplicate-sequence-flows",
    ),
    pytest.param(gateway_joins_and_forks, [("no-gateway-join-fork", "merge_handling")], id="no-gateway-join-fork"),
    pytest.param(
        flow_removed("f_onspot_end"),
        [
            ("no-disconnected", "end_closed_on_spot"),
            ("no-implicit-end", "record_on_spot_closure"),
            ("no-implicit-start", "end_closed_on_spot"),
        ],
        id="no-implicit-end",
    ),
    pytest.param(
        dangling_outgoing_ref,
        [
            ("no-disconnected", "end_closed_on_spot"),
            ("no-implicit-end", "record_on_spot_closure"),
            ("no-implicit-start", "end_closed_on_spot"),
        ],
        id="no-implicit-end-dangling-reference",
    ),
    pytest.param(implicit_split, [("no-implicit-split", "register_incident")], id="no-implicit-split"),
    pytest.param(
        flow_removed("f_start_register"),
        [
            ("no-disconnected", "start_incident"),
            ("no-implicit-end", "start_incident"),
            ("no-implicit-start", "register_incident"),
        ],
        id="no-implicit-start",
    ),
    pytest.param(
        second_blank_start, [("single-blank-start-event", "incident_management")], id="single-blank-start-event"
    ),
    pytest.param(
        two_event_definitions, [("single-event-definition", "deadline_warning")], id="single-event-definition"
    ),
    pytest.param(
        sub_process_without_start,
        [("no-implicit-start", "handling_start"), ("start-event-required", "handle_incident")],
        id="start-event-required",
    ),
    pytest.param(
        typed_sub_process_start,
        [("sub-process-blank-start-event", "handling_start")],
        id="sub-process-blank-start-event",
    ),
    pytest.param(
        ad_hoc_sub_process,
        [("ad-hoc-sub-process", "handling_start"), ("ad-hoc-sub-process", "handling_end")],
        id="ad-hoc-sub-process",
    ),
]


# --- what the rules leave alone: variants that stay clean --------------------------------------------------------


def default_flow_without_condition(root):
    no_condition_on_a_branch(root)
    find(root, "gw_solved_on_spot").set("default", "f_onspot_no")


def compensation_boundary_and_handler(root):
    boundary = bpmn(
        "boundaryEvent", process(root), id="undo_register", name="撤销登记", attachedToRef="register_incident"
    )
    bpmn("compensateEventDefinition", boundary, id="undo_register_definition")
    draw_shape(root, "undo_register", 232, 492, 36, 36)
    bpmn("task", process(root), id="undo_task", name="撤销", isForCompensation="true")
    draw_shape(root, "undo_task", 200, 1300)
    bpmn("association", process(root), id="undo_association", sourceRef="undo_register", targetRef="undo_task")
    edge = etree.SubElement(plane(root), f"{{{DI['bpmndi']}}}BPMNEdge", id="undo_association_di")
    edge.set("bpmnElement", "undo_association")
    for y in (528, 1300):
        etree.SubElement(edge, f"{{{DI['di']}}}waypoint", x="250", y=str(y))


def task_in_extension_elements(root):  # not a flow element: bpmn-moddle does not read it as one
    extensions = find(root, "register_incident").find("bpmn:extensionElements", NS)
    bpmn("task", extensions, id="hidden_task")


CLEAN = [
    pytest.param(lambda root: None, id="shipped"),
    pytest.param(unnamed("merge_handling"), id="unnamed-joining-gateway"),
    pytest.param(unnamed("fork_handling"), id="unnamed-parallel-gateway"),
    pytest.param(unnamed("handle_incident"), id="unnamed-sub-process"),
    pytest.param(unnamed("ref_deadline_notices_arm"), id="unnamed-data-object-reference"),
    pytest.param(link_pair, id="link-pair"),
    pytest.param(default_flow_without_condition, id="default-flow"),
    pytest.param(compensation_boundary_and_handler, id="compensation"),
    pytest.param(task_in_extension_elements, id="extension-elements"),
]


# --- tests -----------------------------------------------------------------------------------------------------


def test_shipped_diagram_lints_clean():
    assert lint.lint(shipped()) == []


@pytest.mark.parametrize(("mutate", "expected"), VARIANTS)
def test_each_rule_names_the_offending_element(mutate, expected):
    root = shipped()
    mutate(root)
    assert lint_pairs(root) == expected


@pytest.mark.parametrize("mutate", CLEAN)
def test_what_the_rules_leave_alone_stays_clean(mutate):
    root = shipped()
    mutate(root)
    assert lint_pairs(root) == []


def test_every_ported_rule_is_exercised():
    fired = {rule for param in VARIANTS for rule, _ in param.values[1]}
    assert fired == {name for name, _ in lint.RULES}
    assert not fired & set(lint.WARNING_RULES)


def test_messages_name_the_rule_and_say_what_is_wrong():
    root = shipped()
    implicit_split(root)
    problems = lint.lint(root)
    assert [(str(p), p.element_id) for p in problems] == [
        ("register_incident: no-implicit-split: flow splits implicitly; use a gateway", "register_incident")
    ]


def test_problems_of_a_small_process_with_no_drawing():
    text = f"""<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="x">
      <process id="p" isExecutable="true"><task id="t" /></process>
    </definitions>"""
    assert lint_pairs(etree.fromstring(text)) == [
        ("end-event-required", "p"),
        ("label-required", "t"),
        ("no-bpmndi", "t"),
        ("no-disconnected", "t"),
        ("no-implicit-end", "t"),
        ("no-implicit-start", "t"),
        ("start-event-required", "p"),
    ]


def test_validation_lists_lint_problems_with_the_others():
    root = shipped()
    stray_task(root)
    find(root, "lane_first_line").set("name", "三线")
    problems = validation.validate(etree.tostring(root), read_form_files())
    # the stray task is a plain task: the engine would wait at it for a person (docs/security.md); it is drawn
    # inside a lane, so it is in that lane and only its missing form is named
    assert [p.element_id for p in problems] == ["stray_task"] * 3 + ["lane_first_line"] + ["stray_task"]
    assert str(problems[0]) == "stray_task: no-disconnected: element is not connected to any sequence flow"


# --- the port agrees with bpmnlint itself ---------------------------------------------------------------------


def bpmnlint_errors(files: list[Path], cwd: Path) -> dict[str, set[tuple[str, str]]]:
    """(rule, element id) of each error bpmnlint (as package-lock.json pins it) reports, per file name."""
    result = run_bpmnlint(files, cwd)
    errors: dict[str, set[tuple[str, str]]] = {file.name: set() for file in files}
    current = None
    for line in result.stdout.splitlines():
        if line.strip() in {str(file) for file in files}:
            current = Path(line.strip()).name
        elif current and (columns := re.split(r"\s{2,}", line.strip()))[1:2] == ["error"]:
            element_id, _, message, *rule = columns
            if not message.startswith("Import warning"):  # the CLI's parse diagnostics, not a rule's
                errors[current].add((rule[0], element_id))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return errors


@pytest.mark.long
def test_bpmnlint_reports_the_same_errors(tmp_path):
    files, expected = [], {}
    for param in [*VARIANTS, *CLEAN]:
        root = shipped()
        param.values[0](root)
        file = tmp_path / f"{param.id}.bpmn"
        file.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        files.append(file)
        expected[file.name] = set(lint_pairs(root))
    assert bpmnlint_errors(files, tmp_path) == expected
