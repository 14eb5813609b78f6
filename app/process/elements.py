"""Every element type the engine would meet is run end to end or refused by name.

Refused: what would run code or reach outside the document (script tasks, scripts, DMN, call
activities, ad-hoc sub-processes), event definitions SpiffWorkflow's parser would silently ignore,
and what would wait for something the application never does: a receive task or a message catch
(nobody sends messages into an incident) unless the diagram itself sends that message, and a send
task or message throw that nothing in the diagram receives. A signal catch nobody throws is the
contract's (app.process.contract). Plain and manual tasks wait for a person like user tasks and need a
form (app.process.validation).
"""

from __future__ import annotations

from lxml import etree

from app.engine.model import BPMN_NS, SPIFF_NS
from app.messages import N_
from app.process.flow import kind
from app.process.problems import Problem, problem

# Elements that would run code or reach outside the document.
FORBIDDEN = {
    "scriptTask": N_("script tasks are not allowed: put the logic in a service task"),
    "businessRuleTask": N_("business rule (DMN) tasks are not supported"),
    "callActivity": N_("call activities are not supported: use an embedded sub-process"),
    "adHocSubProcess": N_("ad-hoc sub-processes are not supported"),
}
FORBIDDEN_EXTENSIONS = {
    "preScript": N_("pre-scripts are not allowed"),
    "postScript": N_("post-scripts are not allowed"),
}
# Event definitions SpiffWorkflow's parsers act on, per kind of event; any other is silently
# ignored by the parser (a signal end event would throw nothing), so it is refused here.
SUPPORTED_EVENT_DEFINITIONS = {
    "startEvent": {"message", "signal", "timer", "conditional"},
    "endEvent": {"message", "cancel", "error", "escalation", "terminate"},
    "intermediateCatchEvent": {"message", "signal", "timer", "conditional"},
    "intermediateThrowEvent": {"escalation", "message", "signal", "timer"},
    "boundaryEvent": {"cancel", "error", "escalation", "message", "signal", "timer", "conditional"},
}
MESSAGE_CATCHERS = ("receiveTask", "startEvent", "intermediateCatchEvent", "boundaryEvent")
MESSAGE_THROWERS = ("sendTask", "intermediateThrowEvent", "endEvent")


def problems(process: etree._Element, *, publishing: bool = True) -> list[Problem]:
    """What is refused; a published version is loaded again with the refusals that keep it safe only."""
    found = _forbidden(process) + _event_problems(process)
    return found + _message_problems(process) if publishing else found


def _forbidden(process: etree._Element) -> list[Problem]:
    problems = [
        problem(FORBIDDEN[kind(el)], el.get("id")) for el in process.iter(f"{{{BPMN_NS}}}*") if kind(el) in FORBIDDEN
    ]
    for el in process.iter(f"{{{SPIFF_NS}}}*"):
        if kind(el) in FORBIDDEN_EXTENSIONS:
            owner = el.getparent().getparent()
            problems.append(problem(FORBIDDEN_EXTENSIONS[kind(el)], owner.get("id")))
    return problems


def _event_problems(process: etree._Element) -> list[Problem]:
    problems = []
    for event_kind, supported in SUPPORTED_EVENT_DEFINITIONS.items():
        for event in process.iter(f"{{{BPMN_NS}}}{event_kind}"):
            for definition in event:
                name = kind(definition)
                if name.endswith("EventDefinition") and name.removesuffix("EventDefinition") not in supported:
                    label = name.removesuffix("EventDefinition")
                    text = N_("a %(definition)s %(kind)s is not supported by the engine")
                    problems.append(problem(text, event.get("id"), definition=label, kind=event_kind))
    return problems


def _message_problems(process: etree._Element) -> list[Problem]:
    """Messages only ever travel inside the diagram here: each needs its sender and its receiver there."""
    catching, throwing = _messages(process, MESSAGE_CATCHERS), _messages(process, MESSAGE_THROWERS)
    found = []
    for message, elements in catching.items():
        if message in throwing:
            continue
        for element in elements:
            text = N_("waits for a message that nothing sends (the application sends no messages into an incident, "
                      "and no element of the diagram sends it): use a user task where someone records what "
                      "arrived, or catch a signal the application throws")  # fmt: skip
            found.append(problem(text, element.get("id")))
    for message, elements in throwing.items():
        if message in catching:
            continue
        for element in elements:
            text = N_("sends a message that nothing in the diagram receives (the application sends no e-mail or "
                      "call from it): use a service task with one of the app's service operations")  # fmt: skip
            found.append(problem(text, element.get("id")))
    return found


def _messages(process: etree._Element, kinds: tuple[str, ...]) -> dict[str, list[etree._Element]]:
    """message id ("" for none) → the elements of these kinds that send or receive it."""
    found: dict[str, list[etree._Element]] = {}
    for name in kinds:
        for element in process.iter(f"{{{BPMN_NS}}}{name}"):
            if name in ("receiveTask", "sendTask"):
                refs = [element.get("messageRef") or ""]
            else:
                refs = [d.get("messageRef") or "" for d in element.findall(f"{{{BPMN_NS}}}messageEventDefinition")]
            for ref in refs:
                found.setdefault(ref, []).append(element)
    return found
