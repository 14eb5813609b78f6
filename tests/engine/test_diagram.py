"""The shipped diagram opens and edits cleanly in bpmn.io: every element is drawn, references agree, shapes do
not pile up, lanes hold what they list, labels are Chinese, ids are English — and bpmnlint has no errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path

import pytest
from lxml import etree

from tests.engine.bpmnlint_cli import run_bpmnlint

BPMN_FILE = Path(__file__).resolve().parents[2] / "processes" / "incident_management.bpmn"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
TASKS = {"task", "userTask", "serviceTask", "manualTask", "sendTask", "receiveTask", "scriptTask", "businessRuleTask"}
ACTIVITIES = TASKS | {"subProcess", "transaction", "callActivity", "adHocSubProcess"}
EVENTS = {"startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
ASSOCIATIONS = {"association", "dataInputAssociation", "dataOutputAssociation"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    def contains(self, point: tuple[float, float]) -> bool:
        x, y = point
        return self.x < x < self.x + self.width and self.y < y < self.y + self.height

    def overlaps(self, other: Box) -> bool:  # touching edges is not overlapping
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )


@cache
def root() -> etree._Element:
    return etree.parse(str(BPMN_FILE)).getroot()


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def elements(*names: str) -> list[etree._Element]:
    wanted = set(names)
    return [el for el in root().iter(f"{{{NS['bpmn']}}}*") if local(el) in wanted]


def by_id() -> dict[str, etree._Element]:
    return {el.get("id"): el for el in root().iter(etree.Element) if el.get("id")}


def shapes() -> dict[str, Box]:
    """bpmnElement → bounds of its shape (not of its label)."""
    return {
        shape.get("bpmnElement"): Box(*(float(bounds.get(k)) for k in ("x", "y", "width", "height")))
        for shape in root().iterfind(".//bpmndi:BPMNShape", NS)
        for bounds in shape.iterfind("dc:Bounds", NS)
    }


def di_refs() -> list[str]:
    return [el.get("bpmnElement") for el in root().xpath("//bpmndi:BPMNShape | //bpmndi:BPMNEdge", namespaces=NS)]


def lane_of() -> dict[str, str]:
    """Flow node id → id of the lane whose flowNodeRef lists it."""
    return {ref.text.strip(): ref.getparent().get("id") for ref in root().iterfind(".//bpmn:flowNodeRef", NS)}


def test_every_element_is_drawn_once_and_every_drawing_has_its_element():
    drawable = elements(*FLOW_NODES, "sequenceFlow", "lane", "participant", "dataObjectReference", *ASSOCIATIONS)
    refs = di_refs()
    missing = sorted(el.get("id") for el in drawable if el.get("id") not in refs)
    duplicated = sorted({ref for ref in refs if refs.count(ref) > 1})
    known = by_id()
    dangling = sorted(ref for ref in refs if ref not in known)
    plane = root().find(".//bpmndi:BPMNPlane", NS).get("bpmnElement")
    assert (missing, duplicated, dangling) == ([], [], [])
    assert plane in known and local(known[plane]) in {"collaboration", "process"}


def test_sequence_flows_and_node_references_agree():
    known = by_id()
    problems = []
    for flow in elements("sequenceFlow"):
        flow_id = flow.get("id")
        for end, listing in (("sourceRef", "outgoing"), ("targetRef", "incoming")):
            node = known.get(flow.get(end))
            if node is None:
                problems.append(f"{flow_id}: {end} {flow.get(end)!r} does not exist")
            elif flow_id not in [ref.text for ref in node.iterfind(f"bpmn:{listing}", NS)]:
                problems.append(f"{flow_id}: not in {listing} of {node.get('id')}")
    for ref in elements("incoming", "outgoing"):
        node, flow = ref.getparent(), known.get(ref.text)
        end = "targetRef" if local(ref) == "incoming" else "sourceRef"
        if flow is None or local(flow) != "sequenceFlow" or flow.get(end) != node.get("id"):
            problems.append(f"{node.get('id')}: stale {local(ref)} {ref.text!r}")
    assert problems == []


def containers(element: etree._Element) -> set[str]:
    """Ids of the sub-processes an element is drawn inside of (its ancestors)."""
    return {el.get("id") for el in element.iterancestors() if local(el) in ACTIVITIES}


def test_shapes_do_not_overlap():
    known, boxes = by_id(), shapes()
    drawn = {
        element_id: box for element_id, box in boxes.items() if local(known[element_id]) not in {"participant", "lane"}
    }
    overlapping = []
    for (a, box_a), (b, box_b) in combinations(sorted(drawn.items()), 2):
        el_a, el_b = known[a], known[b]
        if b in containers(el_a) or a in containers(el_b):
            continue  # a shape inside its expanded sub-process
        if el_a.get("attachedToRef") == b or el_b.get("attachedToRef") == a:
            continue  # a boundary event on its host
        if box_a.overlaps(box_b):
            overlapping.append(f"{a} {box_a} overlaps {b} {box_b}")
    assert overlapping == []


def test_shapes_lie_in_the_lane_that_lists_them():
    known, boxes = by_id(), shapes()
    lanes = {el.get("id"): boxes[el.get("id")] for el in elements("lane")}
    listed = lane_of()
    (pool,) = (boxes[p.get("id")] for p in elements("participant"))
    problems = []
    for element_id, box in sorted(boxes.items()):
        if local(known[element_id]) in {"participant", "lane"}:
            continue
        inside = [lane_id for lane_id, lane in lanes.items() if lane.contains(box.centre)]
        if not pool.contains(box.centre) or len(inside) != 1:
            problems.append(f"{element_id}: centre {box.centre} in lanes {inside}")
        elif local(known[element_id]) in FLOW_NODES and listed.get(element_id) != inside[0]:
            problems.append(f"{element_id}: listed in {listed.get(element_id)}, drawn in {inside[0]}")
    for element_id in sorted(set(listed) - set(boxes)):
        problems.append(f"{element_id}: listed in {listed[element_id]} but not drawn")
    assert problems == []


def test_every_flow_node_is_in_exactly_one_lane():
    refs = [ref.text.strip() for ref in root().iterfind(".//bpmn:flowNodeRef", NS)]
    nodes = {el.get("id") for el in elements(*FLOW_NODES)}
    assert sorted(nodes - set(refs)) == []
    assert sorted({ref for ref in refs if refs.count(ref) > 1}) == []
    assert sorted(set(refs) - nodes) == []


def test_labels_are_chinese():
    unnamed = []
    for node in elements(*FLOW_NODES):
        kind = local(node)
        branching = kind in GATEWAYS and len(node.findall("bpmn:outgoing", NS)) > 1
        if (kind in ACTIVITIES or kind in EVENTS or branching) and not CHINESE.search(node.get("name") or ""):
            unnamed.append(f"{kind} {node.get('id')}: {node.get('name')!r}")
    for element in elements("lane", "participant", "process"):
        if not CHINESE.search(element.get("name") or ""):
            unnamed.append(f"{local(element)} {element.get('id')}: {element.get('name')!r}")
    assert unnamed == []


def test_every_branch_of_an_exclusive_gateway_has_a_condition_or_is_the_default():
    known = by_id()
    unconditioned = []
    for gateway in elements("exclusiveGateway", "inclusiveGateway"):
        outgoing = [known[ref.text] for ref in gateway.iterfind("bpmn:outgoing", NS)]
        if len(outgoing) < 2:
            continue
        for flow in outgoing:
            if flow.find("bpmn:conditionExpression", NS) is None and gateway.get("default") != flow.get("id"):
                unconditioned.append(f"{gateway.get('id')} → {flow.get('id')}")
    assert unconditioned == []


def test_ids_are_english_identifiers():
    bad = sorted(
        el.get("id") for el in root().iter(etree.Element) if el.get("id") and not IDENTIFIER.match(el.get("id"))
    )
    assert bad == []


@pytest.mark.long
def test_bpmnlint_recommended_rules_pass(tmp_path):
    result = run_bpmnlint([BPMN_FILE], tmp_path)
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if re.search(r"\berror\b", line, re.IGNORECASE)]
    assert (result.returncode, errors) == (0, []), output
