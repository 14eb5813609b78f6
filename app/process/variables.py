"""Which process variables are set at each point of the flow, and expressions that read one that is not.

An expression that is safe (app.engine.safe_expression) can still fail when it runs: `yes` as a
condition reads a variable named `yes` that nothing sets. So each expression is checked against the
variables that are set **on every path** to where it is evaluated (docs/process-model.md lists them):

- at the start: `incident` (what the incident is raised with) and every data object;
- a task that waits for a person sets the top-level properties of its form;
- a service task sets its result variable;
- a catch event of a signal sets the signal's variable name (spiffworkflow:variableName);
- a multi-instance activity sets its input data item inside itself.

Where an expression is evaluated: a sequence flow's condition after its source; a service task's
parameters, a timer or condition of an intermediate event, and a multi-instance setting at the
element; a boundary event's timer or condition when its host is entered; a signal's payload at every
event that throws it. The check is conservative at a parallel join (only what every branch sets counts).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from lxml import etree

from app.engine.model import BPMN_NS, NS, SPIFF_NS
from app.engine.safe_expression import ALLOWED_FUNCTIONS
from app.process.flow import Flow, kind

START_VARIABLES = ("incident",)  # app.incidents.service starts every instance with it


def reads(expression: str) -> set[str]:
    """The variable names an expression reads (it has passed the safety check: plain names only)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - set(ALLOWED_FUNCTIONS)


class Availability:
    """The variables set on every path to each node (`before`) and after it (`after`)."""

    def __init__(self, process: etree._Element, form_variables: Mapping[str, Iterable[str]]):
        self.flow = Flow(process)
        root = process.getroottree().getroot()
        self.signals = {s.get("id"): s for s in root.xpath("bpmn:signal", namespaces=NS)}
        data_objects = {el.get("id") for el in process.iter(f"{{{BPMN_NS}}}dataObject") if el.get("id")}
        self.initial = frozenset(START_VARIABLES) | data_objects
        self.sets = {node_id: frozenset(self._sets(node, form_variables.get(node_id, ())))
                     for node_id, node in self.flow.nodes.items()}  # fmt: skip
        self.before, self.after = self._solve()

    def _sets(self, node: etree._Element, form: Iterable[str]) -> set[str]:
        found = set(form)
        operator = node.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}serviceTaskOperator")
        if operator is not None and operator.get("resultVariable"):
            found.add(operator.get("resultVariable"))
        for definition in node.findall(f"{{{BPMN_NS}}}signalEventDefinition"):
            signal = self.signals.get(definition.get("signalRef") or "")
            name = signal.findtext(f".//{{{SPIFF_NS}}}variableName") if signal is not None else None
            if name:
                found.add(name.strip())
        return found

    def _solve(self) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
        """The greatest fixed point of: before(n) = ⋂ after(p) over what leads to n; a boundary event's is its
        host's `before` (it can fire as soon as the host is entered)."""
        everything = self.initial.union(*self.sets.values())
        leads_to: dict[str, list[str]] = {node_id: [] for node_id in self.flow.nodes}
        for source, targets in self.flow.next.items():
            for target in targets:
                if target not in self.flow.host:
                    leads_to[target].append(source)
        before = dict.fromkeys(self.flow.nodes, everything)
        after = {node_id: everything for node_id in self.flow.nodes}
        if self.flow.start is not None:
            before[self.flow.start] = self.initial
        changed = True
        while changed:
            changed = False
            for node_id in self.flow.nodes:
                if node_id == self.flow.start:
                    value = self.initial
                elif node_id in self.flow.host:
                    value = before.get(self.flow.host[node_id], everything)
                elif leads_to[node_id]:
                    value = frozenset.intersection(*(after[source] for source in leads_to[node_id]))
                else:
                    value = before[node_id]
                if value != before[node_id]:
                    before[node_id], changed = value, True
                new_after = value | self.sets[node_id] | self._inner(node_id)
                if new_after != after[node_id]:
                    after[node_id], changed = new_after, True
        return before, after

    def _inner(self, node_id: str) -> frozenset[str]:
        """A multi-instance activity's input data item, set for each instance."""
        node = self.flow.nodes[node_id]
        items = node.xpath("bpmn:multiInstanceLoopCharacteristics/bpmn:inputDataItem", namespaces=NS)
        return frozenset(item.get("name") or item.get("id") for item in items if item.get("name") or item.get("id"))

    def at(self, element: etree._Element) -> frozenset[str] | None:
        """The variables set where an expression inside `element` (a flow, event definition, task…) is evaluated;
        None where the check does not apply (an expression outside the flow, e.g. a signal's own payload)."""
        node = element
        while node is not None and node.get("id") not in self.flow.nodes and kind(node) != "sequenceFlow":
            node = node.getparent()
        if node is None:
            return None
        if kind(node) == "sequenceFlow":
            source = node.get("sourceRef")
            return self.after.get(source) if source in self.flow.nodes else None
        node_id = node.get("id")
        return self.before[node_id] | self._inner(node_id)

    def throwers(self, signal_id: str) -> list[str]:
        """The events that throw a signal (where its payload expression is evaluated)."""
        return [
            node_id
            for node_id, node in self.flow.nodes.items()
            if kind(node) in ("intermediateThrowEvent", "endEvent")
            and any(d.get("signalRef") == signal_id for d in node.findall(f"{{{BPMN_NS}}}signalEventDefinition"))
        ]
