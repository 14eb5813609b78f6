"""The contract between the incident process and the application, written once, and its check.

The application does not run any diagram: it runs *the incident process*, and relies on it for a few
things that no BPMN schema states. Every publication is checked against them (`problems`), each
problem naming the element and the fix. docs/process-model.md lists the same items for people
(a test keeps the two in step).

- The process id is `PROCESS_ID`: new incidents always start the newest version with that id, and
  versions are numbered per process id. A diagram with another id is refused, never published beside it.
- The start form: the blank start event leads straight to a user task in the `START_LANE` lane (the
  service desk registers; an incident raised in the portal waits there), whose form schema has the
  object properties `START_VARIABLES` (the portal fills `incident`; classification reads `facts`).
- Signals the application throws (`THROWN_SIGNALS`): each is caught in the diagram, and arrives in the
  variable the diagram's steps read. Every signal the diagram catches is thrown by the application
  or by a throw event of the diagram, or the incident would wait there for ever.
- Service operations: the process cannot finish without `FINISHING` (closed or transferred: the
  incident's status), nor without `classify`; `record_solution` comes before the confirmation task
  and before `close` (the status 已解决); `dispatch` comes before every task of a lane whose role
  comes from the dispatch (二线).
- Lanes and their roles: the table in app/engine/lanes.py; every lane of the diagram is in it, and
  every task that waits for a person is in a lane.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from app.engine.lanes import LANES
from app.engine.model import BPMN_NS, NS, SPIFF_NS, ProcessModel
from app.messages import N_, Message
from app.process.flow import Flow
from app.process.problems import Problem, problem

PROCESS_ID = "incident_management"
START_LANE = "服务台"
START_VARIABLES = ("incident", "facts")


@dataclass(frozen=True)
class ThrownSignal:
    name: str
    variable: str  # the variable the payload arrives in (spiffworkflow:variableName on the signal)
    action: str  # what the application does when it throws it, for the message


THROWN_SIGNALS = (
    ThrownSignal("case_updated", "case_update", N_("a handler adds facts (re-classification)")),
    ThrownSignal("tracking_requested", "tracking_request", N_("a handler forwards the incident for tracking")),
    ThrownSignal("change_done", "change_completion", N_("a person reports the change an incident waits for done")),
)
FINISHING = ("close", "change_transfer")  # one of them lies on every way the process can finish
CLASSIFY = "classify"
RECORD_SOLUTION = "record_solution"
CONFIRMATION_VARIABLE = "confirmation"  # the confirmation task's form writes it (app.incidents.projection)
DISPATCH = "dispatch"

CATCHING = ("boundaryEvent", "intermediateCatchEvent", "startEvent")
THROWING = ("intermediateThrowEvent", "endEvent")


def problems(process: etree._Element, model: ProcessModel) -> list[Problem]:
    """Every way the process breaks the contract (empty: it keeps it); `model` is what was read of it (its
    specs are not needed, and a form that could not be read is missing from it)."""
    root = process.getroottree().getroot()
    if model.process_id != PROCESS_ID:
        text = N_(
            "the process id is '%(found)s', but the incident process must keep the id '%(expected)s' (new "
            "incidents start the process with that id; a diagram of another process cannot replace it): "
            "set the process id back to '%(expected)s'"
        )
        return [problem(text, process.get("id"), found=model.process_id, expected=PROCESS_ID)]
    graph = Flow(process)
    return [
        *_start_problems(model),
        *_signal_problems(root, process),
        *_operation_problems(graph, model),
    ]


# --- the start form -------------------------------------------------------------------------------------------


def _start_problems(model: ProcessModel) -> list[Problem]:
    if model.start_task is None:
        text = N_(
            "the blank start event must lead to the registration task (a user task in the lane '%(lane)s' whose "
            "form has %(variables)s): new incidents are registered with its form"
        )
        return [problem(text, None, lane=START_LANE, variables=", ".join(START_VARIABLES))]
    task = model.user_tasks.get(model.start_task)
    if task is None:
        return []  # its form's own problem is reported
    found = []
    if task.lane != START_LANE:
        text = N_(
            "the first task, where every new incident waits to be registered, must be in the lane '%(lane)s' "
            "(it is in '%(found)s'): move it into that lane"
        )
        found.append(problem(text, task.id, lane=START_LANE, found=task.lane or "—"))
    if task.schema_file not in model.forms:
        return found  # the form's own problem is reported
    properties = model.forms[task.schema_file].get("properties", {})
    for variable in START_VARIABLES:
        if not isinstance(properties.get(variable), dict) or properties[variable].get("type") != "object":
            text = N_(
                "the registration form (%(file)s) must have the object '%(variable)s': the portal and the "
                "classification read it. Use the form of the published version as a start"
            )
            found.append(problem(text, task.id, file=task.schema_file, variable=variable))
    return found


# --- signals --------------------------------------------------------------------------------------------------


def _signal_problems(root: etree._Element, process: etree._Element) -> list[Problem]:
    signals = {signal.get("id"): signal for signal in root.xpath("bpmn:signal", namespaces=NS)}

    def used(kinds: Iterable[str]) -> dict[str, list[etree._Element]]:
        """signal name → the events of these kinds that refer to it."""
        found: dict[str, list[etree._Element]] = {}
        for kind in kinds:
            for event in process.iter(f"{{{BPMN_NS}}}{kind}"):
                for definition in event.findall(f"{{{BPMN_NS}}}signalEventDefinition"):
                    signal = signals.get(definition.get("signalRef") or "")
                    if signal is not None:
                        found.setdefault(signal.get("name") or "", []).append(event)
        return found

    caught, thrown = used(CATCHING), used(THROWING)
    by_name = {signal.get("name"): signal for signal in signals.values()}
    found = []
    for signal in THROWN_SIGNALS:
        if signal.name not in caught:
            text = N_(
                "the application throws the signal '%(signal)s' when %(action)s, but no event of the diagram "
                "catches it: keep a signal named '%(signal)s' and catch it (as the published version does, with "
                "a boundary event on the handling sub-process)"
            )
            element = by_name.get(signal.name)
            found.append(problem(text, element.get("id") if element is not None else None, signal=signal.name,
                                 action=Message(signal.action)))  # fmt: skip
            continue
        variable = (
            by_name[signal.name]
            .findtext(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}variableName", default="")
            .strip()
        )
        if variable != signal.variable:
            text = N_(
                "the payload of the signal '%(signal)s' must arrive in the variable '%(variable)s' (found "
                "'%(found)s'): the steps after it read that variable. Set its variable name to '%(variable)s'"
            )
            found.append(problem(text, by_name[signal.name].get("id"), signal=signal.name, variable=signal.variable,
                                 found=variable or "—"))  # fmt: skip
    from_app = {signal.name for signal in THROWN_SIGNALS}
    for name, events in sorted(caught.items()):
        if name in from_app or name in thrown:
            continue
        for event in events:
            text = N_(
                "waits for the signal '%(signal)s', which nothing throws (the application throws only %(known)s, "
                "and no throw event of the diagram throws it): an incident would wait here for ever. Throw it "
                "with an intermediate throw event, or catch one of those signals"
            )
            found.append(problem(text, event.get("id"), signal=name, known=", ".join(sorted(from_app))))
    return found


# --- service operations on every path -------------------------------------------------------------------------


def _operation_problems(graph: Flow, model: ProcessModel) -> list[Problem]:
    if graph.start is None:
        return []  # the lint rules already refused it
    found = []
    for wanted, text in (
        (
            set(FINISHING),
            N_(
                "the process can finish here without %(operations)s, so the incident would never be closed or "
                "transferred: put a service task with one of these operations on every path to this end"
            ),
        ),
        (
            {CLASSIFY},
            N_(
                "the process can finish here without %(operations)s, so the incident would never get its level "
                "and deadline: classify it on every path to this end"
            ),
        ),
    ):
        end = graph.finish_without(wanted)
        if end is not None:
            found.append(problem(text, end, operations=" / ".join(sorted(wanted))))
    unresolved = graph.reachable_without({RECORD_SOLUTION})
    for node_id in sorted(unresolved, key=list(graph.nodes).index):
        info = model.user_tasks.get(node_id)
        writes = model.forms.get(info.schema_file, {}).get("properties", {}) if info else {}
        if graph.operation(node_id) == "close" or CONFIRMATION_VARIABLE in writes:
            text = N_(
                "can be reached without the service operation %(operation)s before it, so the incident would not "
                "be resolved here (its status would stay 处理中): put a service task with %(operation)s on every "
                "path to it"
            )
            found.append(problem(text, node_id, operation=RECORD_SOLUTION))
    undispatched = graph.reachable_without({DISPATCH})
    for node_id, info in model.user_tasks.items():
        lane = LANES.get(info.lane)
        if lane is not None and lane.group_from is not None and node_id in undispatched:
            text = N_(
                "is in the lane '%(lane)s', whose group is chosen by the service operation %(operation)s; it can be "
                "reached without it, so nobody could work it: put a service task with %(operation)s on every path "
                "to it"
            )
            found.append(problem(text, node_id, lane=info.lane, operation=DISPATCH))
    return found
