"""Loops that never wait: a cycle of sequence flows on which no task waits for a person and no event
waits for a timer or a message. Such a loop runs on without end the moment it is entered (a model
check refuses it; the engine's step budget, app.engine.runtime.MAX_STEPS, stops one anyway).

Pure over the parsed XML: which elements wait, and the strongly connected parts of what is left.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS}

MANUAL_TASKS = ("userTask", "manualTask", "task")  # the engine waits for a person at each of these
WAITING = {*MANUAL_TASKS, "receiveTask", "intermediateCatchEvent", "eventBasedGateway"}
WAITING_BOUNDARY = {"timer", "message", "signal", "conditional"}  # an error or escalation does not wait
CONTAINERS = {"process", "subProcess", "transaction"}


def loops_without_wait(process: etree._Element) -> Iterator[list[etree._Element]]:
    """Each cycle (as its elements, in document order) in the process or any sub-process that passes
    no waiting element."""
    for container in process.iter(*(f"{{{BPMN_NS}}}{kind}" for kind in CONTAINERS)):
        yield from _loops(container)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _waits(node: etree._Element) -> bool:
    kind = _local(node)
    if kind in WAITING:
        return True
    if kind == "boundaryEvent":
        return any(_local(child).removesuffix("EventDefinition") in WAITING_BOUNDARY for child in node)
    if kind in CONTAINERS:  # a sub-process waits if anything inside it does
        return any(_waits(inner) for inner in node.iter(f"{{{BPMN_NS}}}*") if inner is not node)
    return False


def _loops(container: etree._Element) -> Iterator[list[etree._Element]]:
    # Every child with an id: those no sequence flow touches (flows, data objects…) cannot be on a cycle.
    nodes = {child.get("id"): child for child in container if isinstance(child.tag, str) and child.get("id")}
    edges: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for flow in container.findall(f"{{{BPMN_NS}}}sequenceFlow"):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in edges and target in nodes:
            edges[source].append(target)
    for node_id, node in nodes.items():
        host = node.get("attachedToRef")
        if _local(node) == "boundaryEvent" and host in edges:
            edges[host].append(node_id)  # the boundary event leaves its host
    moving = {node_id for node_id, node in nodes.items() if not _waits(node)}
    order = list(nodes)
    for part in _strongly_connected(moving, {n: [t for t in edges[n] if t in moving] for n in moving}):
        if len(part) > 1 or part[0] in edges[part[0]]:
            yield [nodes[node_id] for node_id in sorted(part, key=order.index)]


def _strongly_connected(nodes: set[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, without recursion (a diagram may be large)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    parts: list[list[str]] = []
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(edges[target])))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                parts.append(part)
    return parts
