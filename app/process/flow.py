"""The flow of a process as tokens move through it, with its sub-processes opened up: what the contract
(which operations lie on every path) and the variable check (what is set on every path) walk."""

from __future__ import annotations

from collections import deque

from lxml import etree

from app.engine.model import BPMN_NS, SPIFF_NS

FLOW_NODE_TAGS = {
    "userTask", "serviceTask", "task", "manualTask", "sendTask", "receiveTask", "subProcess", "transaction",
    "startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}  # fmt: skip


class Flow:
    """The flow of the process with its sub-processes opened up: who follows whom, as tokens move.

    A sub-process leads to its start event, and its end events lead on to what follows the sub-process; a node
    with boundary events may also leave through them (an interrupting one replaces the token's way on, a
    non-interrupting one starts another token)."""

    def __init__(self, process: etree._Element):
        self.nodes: dict[str, etree._Element] = {}
        self.next: dict[str, list[str]] = {}
        self.side: dict[str, list[str]] = {}  # non-interrupting boundary events: another token, not this one
        self.parallel: set[str] = set()  # parallel forks: every way is taken
        self.host: dict[str, str] = {}  # boundary event → the node it is attached to
        containers = [process, *process.iter(f"{{{BPMN_NS}}}subProcess", f"{{{BPMN_NS}}}transaction")]
        for container in containers:
            for child in container:
                if isinstance(child.tag, str) and child.get("id") and kind(child) not in ("sequenceFlow", "laneSet"):
                    self.nodes[child.get("id")] = child
                    self.next.setdefault(child.get("id"), [])
                    self.side.setdefault(child.get("id"), [])
        for container in containers:
            for flow in container.findall(f"{{{BPMN_NS}}}sequenceFlow"):
                source, target = flow.get("sourceRef"), flow.get("targetRef")
                if source in self.nodes and target in self.nodes:
                    self.next[source].append(target)
        for node_id, node in self.nodes.items():
            node_kind = kind(node)
            if node_kind == "boundaryEvent" and node.get("attachedToRef") in self.nodes:
                host = self.host[node_id] = node.get("attachedToRef")
                (self.side if node.get("cancelActivity") == "false" else self.next)[host].append(node_id)
            elif node_kind in ("subProcess", "transaction"):
                starts = [c.get("id") for c in node.findall(f"{{{BPMN_NS}}}startEvent")]
                ends = [c.get("id") for c in node.findall(f"{{{BPMN_NS}}}endEvent")]
                after = [t for t in self.next[node_id] if kind(self.nodes[t]) != "boundaryEvent"]
                for end in ends:
                    self.next[end].extend(after)
                boundaries = [t for t in self.next[node_id] if t not in after]
                self.next[node_id] = starts + boundaries
            elif node_kind == "parallelGateway" and len(self.next[node_id]) > 1:
                self.parallel.add(node_id)
        self.terminates = any(
            node.find(f"{{{BPMN_NS}}}terminateEventDefinition") is not None for node in self.nodes.values()
        )
        self.start = next((c.get("id") for c in process.findall(f"{{{BPMN_NS}}}startEvent")), None)

    def operation(self, node_id: str) -> str | None:
        operator = self.nodes[node_id].find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}serviceTaskOperator")
        return operator.get("id") if operator is not None else None

    def always_passes(self, wanted: set[str]) -> dict[str, bool]:
        """For every node: whether every way the process can finish from there runs one of `wanted`.

        The greatest fixed point (a loop that never finishes passes vacuously). At a parallel fork one
        branch that always passes is enough, since the process finishes only when every branch has
        (unless a terminate end event could end the other branches first)."""
        passes = dict.fromkeys(self.nodes, True)
        changed = True
        while changed:
            changed = False
            for node_id in self.nodes:
                if not passes[node_id]:
                    continue
                if self.operation(node_id) in wanted:
                    continue
                following = [passes[t] for t in self.next[node_id]]
                if not following:
                    value = False
                elif node_id in self.parallel and not self.terminates:
                    value = any(following)
                else:
                    value = all(following)
                if not value:
                    passes[node_id], changed = False, True
        return passes

    def finish_without(self, wanted: set[str]) -> str | None:
        """An end event the process can finish at without running `wanted` (None: it cannot)."""
        passes = self.always_passes(wanted)
        if self.start is None or passes[self.start]:
            return None
        # Breadth first over what does not pass; the farthest such end is the main line's (a parallel side
        # branch, like the fault notification's, ends nearer the start and is not where the fix goes).
        work, seen, farthest = deque([self.start]), {self.start}, None
        while work:
            node = work.popleft()
            if not self.next[node]:
                farthest = node
            for target in self.next[node]:
                if not passes[target] and target not in seen:
                    seen.add(target)
                    work.append(target)
        return farthest

    def reachable_without(self, wanted: set[str]) -> set[str]:
        """The nodes a token can reach from the start without running `wanted` (the ones running it excluded)."""
        found: set[str] = set()
        work = [self.start] if self.start else []
        while work:
            node = work.pop()
            if node in found or self.operation(node) in wanted:
                continue
            found.add(node)
            work.extend(self.next[node] + self.side[node])
        return found


def kind(element: etree._Element) -> str:
    """An element's BPMN type: its local name (userTask, sequenceFlow, …)."""
    return etree.QName(element).localname
