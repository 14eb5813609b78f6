"""What changes between two versions of a diagram, element by element, for the review before publishing.

Flow elements (tasks, events, gateways, sub-processes, sequence flows), lanes, data objects, the process, signals
and messages are matched by id:
an id only in the new version is added, only in the old one removed, in both with a difference changed. What
counts as a difference: the type, the name (label), the enclosing sub-process, the lanes, where a sequence flow
comes from and goes to, which nodes a node is connected to, the default flow, conditions, what a boundary event is
attached to and whether it interrupts, the data a task reads and writes, event definitions (with the name of their
signal or message, which is what the engine matches, and their error or escalation), timer expressions, the
service operation with its result variable and parameters, the task's properties (the form files), multi-instance
and loop settings, who works a lane's tasks (its role, app/engine/lanes.py), whether the process is executable, and
a signal's or message's name, payload expression and variable. Every attribute the engine reads is one of these.
The drawing is not an element: moving, resizing or rerouting what
both versions have only sets `layout_changed`.

Details are English sentences for people, `"<what>: <before> → <after>"` (the UI translates them); every list is
ordered by element id, details in a fixed order, so the same two documents always give the same diff.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from app.engine.lanes import LANES
from app.engine.model import BPMN_NS, SPIFF_NS
from app.process.validation import parse_xml

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"

TASKS = {"task", "userTask", "serviceTask", "manualTask", "sendTask", "receiveTask", "scriptTask", "businessRuleTask"}
SUB_PROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
EVENTS = {"startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "complexGateway", "eventBasedGateway"}
FLOW_NODES = TASKS | SUB_PROCESSES | EVENTS | GATEWAYS | {"callActivity"}
COMPARED = FLOW_NODES | {"sequenceFlow", "lane", "dataObject", "dataObjectReference", "dataStoreReference"}
COMPARED |= {"process", "signal", "message"}
LOOPS = ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics")
LOOP_PARTS = ("loopCardinality", "loopDataInputRef", "loopDataOutputRef", "inputDataItem", "outputDataItem",
              "completionCondition", "loopCondition", "loopMaximum")  # fmt: skip
NONE = "(none)"
TIMERS = ("timeDate", "timeDuration", "timeCycle")
EVENT_REFS = ("signalRef", "messageRef", "errorRef", "escalationRef")
DATA_ASSOCIATIONS = (("reads", "dataInputAssociation", "sourceRef"), ("writes", "dataOutputAssociation", "targetRef"))
PART_LABELS = {
    "payloadExpression": "payload",
    "variableName": "variable",
    "messagePayload": "payload",
    "messageVariable": "variable",
}
PROPERTY_LABELS = {"formJsonSchemaFilename": "form schema", "formUiSchemaFilename": "form UI schema"}


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    kind: str  # the element's local name, e.g. "userTask" (the new one, for a changed element)
    name_before: str | None  # None for an added element ("" for one without a name)
    name_after: str | None  # None for a removed element
    details: tuple[str, ...] = ()  # for a changed element, what changed: "name: 初始支持 → 初始支持（运维）"


@dataclass(frozen=True)
class DiagramDiff:
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]
    layout_changed: bool  # some shape or flow that both versions have is drawn differently

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.changed or self.layout_changed)


def diff(old_xml: str | bytes, new_xml: str | bytes) -> DiagramDiff:
    """The differences from `old_xml` to `new_xml`; raises `ModelError` if either is not readable XML."""
    old, new = _Version(parse_xml(old_xml)), _Version(parse_xml(new_xml))
    added = [
        ElementChange(element_id, _kind(new.elements[element_id]), None, new.name(element_id))
        for element_id in sorted(new.elements.keys() - old.elements.keys())
    ]
    removed = [
        ElementChange(element_id, _kind(old.elements[element_id]), old.name(element_id), None)
        for element_id in sorted(old.elements.keys() - new.elements.keys())
    ]
    changed = []
    for element_id in sorted(old.elements.keys() & new.elements.keys()):
        before, after = old.describe(element_id), new.describe(element_id)
        details = tuple(
            f"{what}: {before.get(what, NONE)} → {after.get(what, NONE)}"
            for what in _union(before, after)
            if before.get(what, NONE) != after.get(what, NONE)
        )
        if details:
            kind = _kind(new.elements[element_id])
            changed.append(ElementChange(element_id, kind, old.name(element_id), new.name(element_id), details))
    common = old.by_id.keys() & new.by_id.keys()  # the pool and the associations too, not only compared elements
    layout_changed = any(old.drawings.get(element_id) != new.drawings.get(element_id) for element_id in common)
    return DiagramDiff(added, removed, changed, layout_changed)


class _Version:
    """One document: its compared elements by id, what describes each, and how each is drawn."""

    def __init__(self, root: etree._Element):
        self.root = root
        self.elements: dict[str, etree._Element] = {}
        for element in root.iter(f"{{{BPMN_NS}}}*"):
            if _kind(element) in COMPARED and element.get("id") and not _in_extensions(element):
                self.elements.setdefault(element.get("id"), element)
        self.by_id = {el.get("id"): el for el in root.iter(etree.Element) if el.get("id")}
        self.lanes: dict[str, list[str]] = {}  # flow node id → the lanes listing it, outermost first
        for ref in root.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            lane = ref.getparent()
            self.lanes.setdefault((ref.text or "").strip(), []).append(lane.get("name") or lane.get("id") or "")
        self.sources: dict[str, set[str]] = {}  # node id → the nodes its incoming flows come from
        self.targets: dict[str, set[str]] = {}  # node id → the nodes its outgoing flows go to
        for flow in self.elements.values():
            if _kind(flow) == "sequenceFlow":
                source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
                self.targets.setdefault(source, set()).add(target)
                self.sources.setdefault(target, set()).add(source)
        self.drawings: dict[str, list[tuple]] = {}  # element id → its DI shapes/edges, without their own ids
        for plane in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"):
            for drawing in plane:
                if isinstance(drawing.tag, str) and drawing.get("bpmnElement"):
                    self.drawings.setdefault(drawing.get("bpmnElement"), []).append(_canonical(drawing))

    def signal_name(self, ref: str) -> str:
        """A signal or message by its name (what the engine matches on), not its id."""
        element = self.by_id.get(ref)
        return element.get("name") or ref if element is not None else ref

    def name(self, element_id: str) -> str:
        return self.elements[element_id].get("name") or ""

    def describe(self, element_id: str) -> dict[str, str]:
        """What is compared of an element, each aspect as text; an absent aspect is missing from the dict."""
        element = self.elements[element_id]
        kind = _kind(element)
        aspects = {"type": kind, "name": element.get("name") or NONE}
        parent = next((el for el in element.iterancestors() if _kind(el) in SUB_PROCESSES | {"process"}), None)
        if parent is not None and kind != "lane":
            aspects["parent"] = parent.get("id") or NONE
        if kind == "process":
            aspects["executable"] = "yes" if element.get("isExecutable") == "true" else "no"
        if kind in ("signal", "message"):
            for part in ("payloadExpression", "variableName", "messagePayload", "messageVariable"):
                found = element.find(f".//{{{SPIFF_NS}}}{part}")
                if found is not None:
                    aspects[PART_LABELS[part]] = _text(found)
        if kind == "lane":
            aspects["role"] = _role(element.get("name") or "")
        if kind in FLOW_NODES:
            lanes = self.lanes.get(element_id, [])
            aspects["lane"] = " / ".join(lanes) or NONE
            if lanes:
                aspects["role"] = _role(lanes[-1])
            aspects["incoming from"] = ", ".join(sorted(self.sources.get(element_id, ()))) or NONE
            aspects["outgoing to"] = ", ".join(sorted(self.targets.get(element_id, ()))) or NONE
            aspects["default flow"] = element.get("default") or NONE
        if kind == "sequenceFlow":
            aspects["source"] = element.get("sourceRef") or NONE
            aspects["target"] = element.get("targetRef") or NONE
        condition = _child(element, "conditionExpression")
        if condition is not None:
            aspects["condition"] = _text(condition)
        if kind == "boundaryEvent":
            aspects["attached to"] = element.get("attachedToRef") or NONE
            aspects["interrupting"] = "no" if element.get("cancelActivity") == "false" else "yes"
        aspects.update(self._event(element))
        aspects.update(_loop(element))
        aspects.update(_service(element))
        properties = f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"
        for prop in element.iterfind(properties):
            name = prop.get("name") or ""
            aspects[PROPERTY_LABELS.get(name, f"property {name}")] = prop.get("value") or NONE
        for what, association, end in DATA_ASSOCIATIONS:
            path = f"{{{BPMN_NS}}}{association}/{{{BPMN_NS}}}{end}"
            refs = sorted((ref.text or "").strip() for ref in element.iterfind(path))
            if refs:
                aspects[what] = ", ".join(refs)
        if kind in {"dataObjectReference", "dataStoreReference"}:
            aspects["refers to"] = element.get("dataObjectRef") or element.get("dataStoreRef") or NONE
        return aspects

    def _event(self, element: etree._Element) -> Iterator[tuple[str, str]]:
        definitions = [child for child in _bpmn_children(element) if _kind(child).endswith("EventDefinition")]
        if not definitions:
            return
        described = []
        for definition in definitions:
            what = _kind(definition).removesuffix("EventDefinition")
            refs = [self.signal_name(definition.get(ref)) for ref in EVENT_REFS if definition.get(ref)]
            described.append(" ".join([what, *refs]))
            for timer in TIMERS:
                expression = _child(definition, timer)
                if expression is not None:
                    yield "timer", f"{timer} {_text(expression)}"
            condition = _child(definition, "condition")
            if condition is not None:
                yield "condition", _text(condition)
        yield "event", ", ".join(described)


def _loop(element: etree._Element) -> Iterator[tuple[str, str]]:
    """Multi-instance and loop settings, each part on its own."""
    for loop in (child for child in _bpmn_children(element) if _kind(child) in LOOPS):
        sequential = loop.get("isSequential") == "true"
        if _kind(loop) == "standardLoopCharacteristics":
            yield "loop", "standard"
        else:
            yield "loop", "multi-instance, sequential" if sequential else "multi-instance, parallel"
        for part in LOOP_PARTS:
            found = loop.find(f"{{{BPMN_NS}}}{part}")
            if found is not None:
                value = found.get("name") or found.get("id") if part.endswith("Item") else _text(found)
                yield f"loop {part}", value or NONE
        if loop.get("loopMaximum"):
            yield "loop loopMaximum", loop.get("loopMaximum")


def _role(lane_name: str) -> str:
    """Who works a lane's tasks (app/engine/lanes.py), as the diff shows it."""
    lane = LANES.get(lane_name)
    if lane is None:
        return NONE
    return lane.role or " / ".join(lane.group_roles.values())


def _service(element: etree._Element) -> Iterator[tuple[str, str]]:
    operators = element.findall(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}serviceTaskOperator")
    for operator in operators[:1]:
        yield "operation", operator.get("id") or NONE
        yield "result variable", operator.get("resultVariable") or NONE
        parameters = operator.iterfind(f"{{{SPIFF_NS}}}parameters/{{{SPIFF_NS}}}parameter")
        for parameter in sorted(parameters, key=lambda p: p.get("id") or ""):
            yield f"parameter {parameter.get('id')}", parameter.get("value") or NONE


EXPORTER_ATTRIBUTES = {"exporter", "exporterVersion"}  # on bpmn:definitions: which tool wrote the file
PLANE = f"{{{BPMNDI_NS}}}BPMNPlane"


def equivalent(old_xml: str | bytes, new_xml: str | bytes) -> bool:
    """Whether two documents differ only in how they are written: whitespace between elements and around
    texts, attribute order, namespace prefixes, how numbers are written, comments, the exporter's name, and the
    order of the shapes in a diagram's plane (bpmn-js rewrites a file it saves unchanged in all of these ways; it
    draws in the order of the process, not of the plane). Raises `ModelError` if either is not readable XML."""
    return _written(parse_xml(old_xml)) == _written(parse_xml(new_xml))


def _written(element: etree._Element) -> tuple:
    """An element as what it says, not how it is written (see `equivalent`)."""
    attributes = {}
    for name, value in element.attrib.items():
        if element.tag == f"{{{BPMN_NS}}}definitions" and name in EXPORTER_ATTRIBUTES:
            continue
        prefix, colon, local = value.partition(":")
        if colon and prefix in element.nsmap and " " not in value:  # a QName value (xsi:type="bpmn:tFormal…")
            value = f"{{{element.nsmap[prefix]}}}{local}"
        attributes[name] = _number(value)
    children = tuple(_written(child) for child in element if isinstance(child.tag, str))
    if element.tag == PLANE:
        children = tuple(sorted(children, key=repr))
    text = (element.text or "").strip()
    return element.tag, tuple(sorted(attributes.items(), key=lambda item: item[0])), text, children


def _kind(element: etree._Element) -> str:
    return etree.QName(element).localname


def _bpmn_children(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and etree.QName(c).namespace == BPMN_NS]


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(f"{{{BPMN_NS}}}{name}")


def _text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip() or NONE


def _in_extensions(element: etree._Element) -> bool:
    return any(_kind(el) == "extensionElements" for el in element.iterancestors())


def _union(first: dict[str, str], second: dict[str, str]) -> list[str]:
    """The keys of both, in the order `describe` lists them (the first's, then any only in the second)."""
    return [*first, *(key for key in second if key not in first)]


def _canonical(element: etree._Element) -> tuple:
    """A DI element as comparable data: tag, attributes (numbers as numbers, its own id left out), children."""
    attributes = tuple(sorted((name, _number(value)) for name, value in element.attrib.items() if name != "id"))
    children = tuple(_canonical(child) for child in element if isinstance(child.tag, str))
    return _kind(element), attributes, children


def _number(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value
