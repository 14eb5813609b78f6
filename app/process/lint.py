"""bpmnlint's `recommended` structural rules, re-implemented over the lxml tree.

The app validates a diagram when it is published, where Node (and so bpmnlint itself) is not available. This
module ports the rules that bpmnlint 11's `recommended` configuration marks as errors, with the semantics of
bpmnlint's own sources, so a diagram that `npx bpmnlint@11` reports clean gets no problem here, and each error
bpmnlint reports is a `Problem` here naming the same element:

    ad-hoc-sub-process, conditional-flows, end-event-required, event-based-gateway,
    event-sub-process-typed-start-event, label-required, link-event, no-bpmndi, no-complex-gateway,
    no-disconnected, no-duplicate-sequence-flows, no-gateway-join-fork, no-implicit-end, no-implicit-split,
    no-implicit-start, single-blank-start-event, single-event-definition, start-event-required,
    sub-process-blank-start-event

Every problem of a document refuses its publication, so the rules `recommended` only warns about are not
ported; they are left to the linter of the bpmn.io modeler, which shows them while the diagram is edited:

    fake-join, global, no-inclusive-gateway, no-overlapping-elements, superfluous-gateway, superfluous-label,
    superfluous-termination

As in bpmnlint (which reads the document with bpmn-moddle), a node's connections are its `incoming` and
`outgoing` references, a reference to an id that does not exist counts as absent, and only elements where the
schema puts them are looked at (a task inside `extensionElements` is not one). Each message starts with the
rule's name (its `rule` parameter: the messages are `Message`s with English ids, translated where shown).
bpmnlint's command line also fails a document on its reader's warnings (an unresolved reference, an element out
of place); those are not rules and are not reported here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from lxml import etree

from app.messages import N_, Message
from app.process.problems import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"

TASKS = {"task", "userTask", "serviceTask", "manualTask", "sendTask", "receiveTask", "scriptTask", "businessRuleTask"}
SUB_PROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
ACTIVITIES = TASKS | SUB_PROCESSES | {"callActivity"}
CATCH_EVENTS = {"startEvent", "intermediateCatchEvent", "boundaryEvent"}
THROW_EVENTS = {"endEvent", "intermediateThrowEvent", "implicitThrowEvent"}
EVENTS = CATCH_EVENTS | THROW_EVENTS
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "complexGateway", "eventBasedGateway"}
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
FLOW_ELEMENTS = FLOW_NODES | {"sequenceFlow", "dataObject", "dataObjectReference", "dataStoreReference"}
CONTAINERS = {"process"} | SUB_PROCESSES  # bpmn:FlowElementsContainer
ARTIFACTS = {"association", "group", "textAnnotation"}
WITH_DEFAULT = ACTIVITIES | {"exclusiveGateway", "inclusiveGateway", "complexGateway"}
ROOT_ELEMENTS = {"process", "collaboration"}  # the root elements the rules look into
IN_SCOPE = FLOW_ELEMENTS | ARTIFACTS | {"laneSet"}
CONTAINED = {  # kind → the kinds of its children that the rules look at
    "definitions": ROOT_ELEMENTS,
    "collaboration": ARTIFACTS | {"participant", "messageFlow"},
    "laneSet": {"lane"},
    "childLaneSet": {"lane"},
    "lane": {"childLaneSet"},
    **dict.fromkeys(CONTAINERS, IN_SCOPE),
}
# What JavaScript's String.prototype.trim removes (label-required trims the name).
WHITESPACE = " \t\n\r\v\f\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(map(chr, range(0x2000, 0x200B)))


def lint(root: etree._Element) -> list[Problem]:
    """The problems bpmnlint's recommended configuration reports as errors, rule by rule, in document order."""
    document = _Document(root)
    return [problem for _name, rule in RULES for problem in rule(document)]


class _Document:
    """The BPMN elements of a document, as bpmn-moddle resolves them."""

    def __init__(self, root: etree._Element):
        self.root = root
        self.elements: list[etree._Element] = []  # the elements bpmnlint visits, in document order
        self._collect(root)
        self.by_id = {el.get("id"): el for el in root.iter(etree.Element) if el.get("id")}

    def _collect(self, element: etree._Element) -> None:
        """Walk the containment bpmn-moddle reads: what stands where the schema puts no such element (an event
        directly in a collaboration, a task in extensionElements) is not read as one."""
        self.elements.append(element)
        children = _children(element, CONTAINED.get(kind(element), set()))
        for child in children[-1:] if kind(element) == "lane" else children:  # a lane has one child lane set
            self._collect(child)

    def of(self, kinds: set[str]) -> Iterator[etree._Element]:
        return (el for el in self.elements if kind(el) in kinds)

    def refs(self, element: etree._Element, name: str) -> list[etree._Element]:
        """The elements the `name` child references of `element` point to (unresolved ones dropped)."""
        found = (self.by_id.get((ref.text or "").strip()) for ref in element.findall(f"{{{BPMN_NS}}}{name}"))
        return [el for el in found if el is not None]

    def incoming(self, element: etree._Element) -> list[etree._Element]:
        return self.refs(element, "incoming")

    def outgoing(self, element: etree._Element) -> list[etree._Element]:
        return self.refs(element, "outgoing")

    def attr_ref(self, element: etree._Element, name: str) -> etree._Element | None:
        value = element.get(name)
        return self.by_id.get(value) if value else None

    def default(self, node: etree._Element) -> etree._Element | None:
        """The default flow, for the kinds of node that have one."""
        return self.attr_ref(node, "default") if kind(node) in WITH_DEFAULT else None


def kind(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(element: etree._Element, kinds: set[str]) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str) and _is_bpmn(child) and kind(child) in kinds]


def _is_bpmn(element: etree._Element) -> bool:
    return etree.QName(element).namespace == BPMN_NS


def _is_true(element: etree._Element, attribute: str) -> bool:
    return element.get(attribute) == "true"


def _event_definitions(event: etree._Element) -> list[etree._Element]:
    return [
        child
        for child in event
        if isinstance(child.tag, str) and _is_bpmn(child) and kind(child).endswith("EventDefinition")
    ]


def _only_definitions_of(event: etree._Element, definition: str) -> bool:
    definitions = _event_definitions(event)
    return bool(definitions) and all(kind(d) == definition for d in definitions)


def _has_condition(flow: etree._Element) -> bool:
    return kind(flow) == "sequenceFlow" and flow.find(f"{{{BPMN_NS}}}conditionExpression") is not None


def _in_ad_hoc(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and kind(parent) == "adHocSubProcess" and _is_bpmn(parent)


def _event_sub_process(element: etree._Element) -> bool:
    return kind(element) in SUB_PROCESSES and _is_true(element, "triggeredByEvent")


def _scope(container: etree._Element, process: str, sub_process: str) -> str:
    """The message for a process or for a sub-process, as `container` is one or the other."""
    return process if kind(container) == "process" else sub_process


def _problem(rule: str, text: str, element: etree._Element, **params: str) -> Problem:
    """`text` is an English message id starting with "%(rule)s: " (marked with N_ where it is written)."""
    return Problem(Message(text, {"rule": rule, **params}), element.get("id"))


# --- the rules -------------------------------------------------------------------------------------------------


def ad_hoc_sub_process(doc: _Document) -> Iterator[Problem]:
    for container in doc.of({"adHocSubProcess"}):
        for child in _children(container, {"startEvent", "endEvent"}):
            if kind(child) == "startEvent":
                text = N_("%(rule)s: a start event is not allowed in an ad-hoc sub-process")
            else:
                text = N_("%(rule)s: an end event is not allowed in an ad-hoc sub-process")
            yield _problem("ad-hoc-sub-process", text, child)


def conditional_flows(doc: _Document) -> Iterator[Problem]:
    for node in doc.of(FLOW_NODES):
        outgoing = doc.outgoing(node)
        default = doc.default(node)
        if default is None and not any(_has_condition(flow) for flow in outgoing):
            continue
        for flow in outgoing:
            if not _has_condition(flow) and flow is not default:
                message = N_(
                    "%(rule)s: sequence flow is missing a condition "
                    "(it leaves a conditional fork and is not the default)"
                )
                yield _problem("conditional-flows", message, flow)


def end_event_required(doc: _Document) -> Iterator[Problem]:
    return _missing_event(
        doc,
        "endEvent",
        "end-event-required",
        N_("%(rule)s: process is missing an end event"),
        N_("%(rule)s: sub-process is missing an end event"),
    )


def _missing_event(
    doc: _Document, event_type: str, rule: str, in_process: str, in_sub_process: str
) -> Iterator[Problem]:
    """A process or sub-process (ad-hoc ones aside) that has no event of `event_type` directly in it."""
    for container in doc.of(CONTAINERS - {"adHocSubProcess"}):
        if not _children(container, {event_type}):
            yield _problem(rule, _scope(container, in_process, in_sub_process), container)


def event_based_gateway(doc: _Document) -> Iterator[Problem]:
    for gateway in doc.of({"eventBasedGateway"}):
        outgoing = doc.outgoing(gateway)
        if len(outgoing) < 2:
            text = N_("%(rule)s: an event-based gateway needs at least 2 outgoing flows")
            yield _problem("event-based-gateway", text, gateway)
        for flow in outgoing:
            if _has_condition(flow):
                message = N_("%(rule)s: a sequence flow leaving an event-based gateway must not have a condition")
                yield _problem("event-based-gateway", message, flow)


def event_sub_process_typed_start_event(doc: _Document) -> Iterator[Problem]:
    for container in doc.of(SUB_PROCESSES):
        if not _event_sub_process(container):
            continue
        for start in _children(container, {"startEvent"}):
            if not _event_definitions(start):
                message = N_("%(rule)s: the start event of an event sub-process needs an event definition")
                yield _problem("event-sub-process-typed-start-event", message, start)


def label_required(doc: _Document) -> Iterator[Problem]:
    for element in doc.of(FLOW_NODES | {"sequenceFlow", "participant", "lane"}):
        name = kind(element)
        if name in {"parallelGateway", "eventBasedGateway"} or name in SUB_PROCESSES:
            continue
        if name in GATEWAYS and len(doc.outgoing(element)) <= 1:
            continue  # a joining gateway
        if name == "sequenceFlow" and not _has_condition(element):
            continue
        if not (element.get("name") or "").strip(WHITESPACE):
            yield _problem("label-required", N_("%(rule)s: element is missing a label"), element)


def link_event(doc: _Document) -> Iterator[Problem]:
    for container in doc.of(CONTAINERS):
        links = [
            event
            for event in _children(container, EVENTS)
            if any(kind(d) == "linkEventDefinition" for d in _event_definitions(event))
        ]
        named: dict[str, list[etree._Element]] = defaultdict(list)
        for link in links:
            definition = next(d for d in _event_definitions(link) if kind(d) == "linkEventDefinition")
            if definition.get("name"):
                named[definition.get("name")].append(link)
            else:
                yield _problem("link-event", N_("%(rule)s: link event is missing a link name"), link)
        no_catch = N_("%(rule)s: link catch event named '%(name)s' is missing in this scope")
        for name, events in named.items():
            catches = [event for event in events if kind(event) in CATCH_EVENTS]
            if len(events) == 1:
                no_throw = N_("%(rule)s: link throw event named '%(name)s' is missing in this scope")
                yield _problem("link-event", no_throw if catches else no_catch, events[0], name=name)
            elif len(catches) > 1:
                for event in catches:
                    text = N_("%(rule)s: more than one link catch event is named '%(name)s' here")
                    yield _problem("link-event", text, event, name=name)
            elif not catches:
                for event in events:
                    yield _problem("link-event", no_catch, event, name=name)


def no_bpmndi(doc: _Document) -> Iterator[Problem]:
    drawn = {
        shape.get("bpmnElement")
        for plane in doc.root.iter(f"{{{BPMNDI_NS}}}BPMNPlane")
        if kind(plane.getparent()) == "BPMNDiagram"
        for shape in plane
        if isinstance(shape.tag, str)
    }
    for element in _drawable(_children(doc.root, ROOT_ELEMENTS)):
        if kind(element) != "dataObject" and element.get("id") not in drawn:
            text = N_("%(rule)s: element is not drawn in the diagram (it has no BPMN DI)")
            yield _problem("no-bpmndi", text, element)


def _drawable(scopes: list[etree._Element]) -> Iterator[etree._Element]:
    """What bpmnlint expects to be drawn, scope by scope: flow elements (and those of the sub-processes that have
    any), participants, artifacts, the lanes of the first lane set (and of their child lane sets), message flows."""
    for scope in scopes:
        flow_elements = _children(scope, FLOW_ELEMENTS)
        yield from flow_elements
        yield from _drawable([el for el in flow_elements if kind(el) in SUB_PROCESSES and _children(el, FLOW_ELEMENTS)])
        yield from _children(scope, {"participant"})
        yield from _children(scope, ARTIFACTS)
        lane_sets = _children(scope, {"laneSet"})[:1] or _children(scope, {"childLaneSet"})[-1:]
        lanes = _children(lane_sets[0], {"lane"}) if lane_sets else []
        yield from lanes
        yield from _drawable([lane for lane in lanes if _children(lane, {"childLaneSet"})])
        yield from _children(scope, {"messageFlow"})


def no_complex_gateway(doc: _Document) -> Iterator[Problem]:
    for gateway in doc.of({"complexGateway"}):
        yield _problem("no-complex-gateway", N_("%(rule)s: complex gateways are not allowed"), gateway)


def no_disconnected(doc: _Document) -> Iterator[Problem]:
    for node in doc.of(TASKS | GATEWAYS | SUB_PROCESSES | EVENTS):
        if _event_sub_process(node) or _in_ad_hoc(node):
            continue
        definitions = [kind(d) for d in _event_definitions(node)]
        compensation_boundary = kind(node) == "boundaryEvent" and definitions == ["compensateEventDefinition"]
        if compensation_boundary or _is_true(node, "isForCompensation"):
            continue
        if not doc.incoming(node) and not doc.outgoing(node):
            yield _problem("no-disconnected", N_("%(rule)s: element is not connected to any sequence flow"), node)


def no_duplicate_sequence_flows(doc: _Document) -> Iterator[Problem]:
    seen: set[tuple[str, str, str]] = set()
    reported: set[tuple[str, str]] = set()
    for flow in doc.of({"sequenceFlow"}):
        source, target = doc.attr_ref(flow, "sourceRef"), doc.attr_ref(flow, "targetRef")
        condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        key = (
            source.get("id") if source is not None else flow.get("id"),
            target.get("id") if target is not None else flow.get("id"),
            "".join(condition.itertext()) if condition is not None else "",
        )
        if key not in seen:
            seen.add(key)
            continue
        yield _problem("no-duplicate-sequence-flows", N_("%(rule)s: sequence flow duplicates another one"), flow)
        ends = (
            (source, "outgoing", N_("%(rule)s: element has duplicate outgoing sequence flows")),
            (target, "incoming", N_("%(rule)s: element has duplicate incoming sequence flows")),
        )
        for end, direction, message in ends:
            if end is not None and (end.get("id"), direction) not in reported:
                reported.add((end.get("id"), direction))
                yield _problem("no-duplicate-sequence-flows", message, end)


def no_gateway_join_fork(doc: _Document) -> Iterator[Problem]:
    for gateway in doc.of(GATEWAYS):
        if len(doc.incoming(gateway)) > 1 and len(doc.outgoing(gateway)) > 1:
            text = N_("%(rule)s: gateway both joins and forks; use two gateways")
            yield _problem("no-gateway-join-fork", text, gateway)


def no_implicit_split(doc: _Document) -> Iterator[Problem]:
    for node in doc.of(ACTIVITIES | EVENTS):
        default = doc.default(node)
        unconditional = [f for f in doc.outgoing(node) if not _has_condition(f) and f is not default]
        if len(unconditional) > 1:
            yield _problem("no-implicit-split", N_("%(rule)s: flow splits implicitly; use a gateway"), node)


def no_implicit_end(doc: _Document) -> Iterator[Problem]:
    for node in doc.of(EVENTS | ACTIVITIES | GATEWAYS):
        name = kind(node)
        if (
            _event_sub_process(node)
            or (name == "intermediateThrowEvent" and _only_definitions_of(node, "linkEventDefinition"))
            or _in_ad_hoc(node)
            or name == "endEvent"
            or (
                name == "boundaryEvent"
                and _only_definitions_of(node, "compensateEventDefinition")
                and _has_association_from(node)
            )
            or (name in ACTIVITIES and _is_true(node, "isForCompensation"))
        ):
            continue
        if not doc.outgoing(node):
            message = N_(
                "%(rule)s: element is an implicit end: no sequence flow leaves it; end the path with an end event"
            )
            yield _problem("no-implicit-end", message, node)


def _has_association_from(node: etree._Element) -> bool:
    process = next((el for el in node.iterancestors() if kind(el) == "process" and _is_bpmn(el)), None)
    if process is None:
        return False
    return any(assoc.get("sourceRef") == node.get("id") for assoc in _children(process, {"association"}))


def no_implicit_start(doc: _Document) -> Iterator[Problem]:
    for node in doc.of(EVENTS | ACTIVITIES | GATEWAYS):
        name = kind(node)
        if (
            (name in ACTIVITIES and _is_true(node, "isForCompensation"))
            or _in_ad_hoc(node)
            or _event_sub_process(node)
            or (name == "intermediateCatchEvent" and _only_definitions_of(node, "linkEventDefinition"))
            or name in {"startEvent", "boundaryEvent"}
        ):
            continue
        if not doc.incoming(node):
            message = N_(
                "%(rule)s: element is an implicit start: no sequence flow enters it; start the path with a start event"
            )
            yield _problem("no-implicit-start", message, node)


def single_blank_start_event(doc: _Document) -> Iterator[Problem]:
    for container in doc.of(CONTAINERS):
        blank = [start for start in _children(container, {"startEvent"}) if not _event_definitions(start)]
        if len(blank) > 1:
            message = _scope(
                container,
                N_("%(rule)s: process has more than one blank start event"),
                N_("%(rule)s: sub-process has more than one blank start event"),
            )
            yield _problem("single-blank-start-event", message, container)


def single_event_definition(doc: _Document) -> Iterator[Problem]:
    for event in doc.of(EVENTS):
        if len(_event_definitions(event)) > 1:
            text = N_("%(rule)s: event has more than one event definition")
            yield _problem("single-event-definition", text, event)


def start_event_required(doc: _Document) -> Iterator[Problem]:
    return _missing_event(
        doc,
        "startEvent",
        "start-event-required",
        N_("%(rule)s: process is missing a start event"),
        N_("%(rule)s: sub-process is missing a start event"),
    )


def sub_process_blank_start_event(doc: _Document) -> Iterator[Problem]:
    for container in doc.of(SUB_PROCESSES):
        if _event_sub_process(container):
            continue
        for start in _children(container, {"startEvent"}):
            if _event_definitions(start):
                message = N_("%(rule)s: the start event of a sub-process must be blank (no event definition)")
                yield _problem("sub-process-blank-start-event", message, start)


RULES: tuple[tuple[str, Callable[[_Document], Iterator[Problem]]], ...] = (
    ("ad-hoc-sub-process", ad_hoc_sub_process),
    ("conditional-flows", conditional_flows),
    ("end-event-required", end_event_required),
    ("event-based-gateway", event_based_gateway),
    ("event-sub-process-typed-start-event", event_sub_process_typed_start_event),
    ("label-required", label_required),
    ("link-event", link_event),
    ("no-bpmndi", no_bpmndi),
    ("no-complex-gateway", no_complex_gateway),
    ("no-disconnected", no_disconnected),
    ("no-duplicate-sequence-flows", no_duplicate_sequence_flows),
    ("no-gateway-join-fork", no_gateway_join_fork),
    ("no-implicit-end", no_implicit_end),
    ("no-implicit-split", no_implicit_split),
    ("no-implicit-start", no_implicit_start),
    ("single-blank-start-event", single_blank_start_event),
    ("single-event-definition", single_event_definition),
    ("start-event-required", start_event_required),
    ("sub-process-blank-start-event", sub_process_blank_start_event),
)
WARNING_RULES = (
    "fake-join",
    "global",
    "no-inclusive-gateway",
    "no-overlapping-elements",
    "superfluous-gateway",
    "superfluous-label",
    "superfluous-termination",
)
