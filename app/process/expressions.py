"""Every expression of a diagram: safe (app.engine.safe_expression), written in Python rather than another
engine's language (app.process.foreign), reading only variables set on every path to where it is evaluated
(app.process.variables), and — for a timer — an ISO 8601 value as a quoted string, or an expression.

Nothing is evaluated here: a timer's literal value is only parsed, with the engine's own parser.
"""

from __future__ import annotations

import ast
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine import safe_expression
from app.engine.model import NS
from app.messages import N_, Message
from app.process import foreign
from app.process.flow import kind
from app.process.problems import Problem, problem
from app.process.variables import Availability, reads

EXPRESSION_PATHS = (
    ".//bpmn:conditionExpression",
    ".//bpmn:loopCardinality",
    ".//bpmn:completionCondition",
    ".//bpmn:loopCondition",
    ".//bpmn:condition",  # conditional events
    ".//spiffworkflow:payloadExpression",
    ".//spiffworkflow:messagePayload",
    # Correlation expressions (these and correlationPropertyRetrievalExpression, below): SpiffWorkflow
    # evaluates them with its own unrestricted `eval`, bypassing the script engine.
    ".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression",
)
TIMERS = {  # how the engine reads each kind of timer's value, and an example of one
    "timeDate": (TimerEventDefinition.parse_time_or_duration, '"2026-03-02T09:00:00+08:00"'),
    "timeDuration": (TimerEventDefinition.parse_iso_duration, '"PT30M"'),
    "timeCycle": (TimerEventDefinition.parse_iso_recurring_interval, '"R3/PT10M"'),
}
OWNERS = {"sequenceFlow", "signal", "message", "correlationProperty"}
FLOW_NODE_SUFFIXES = ("Task", "Event", "Gateway", "subProcess", "transaction", "task")
NAMED = N_("%(where)s '%(expression)s': %(detail)s")


def problems(process: etree._Element, availability: Availability | None) -> list[Problem]:
    """Every expression's problems; without `availability`, the variables they read are not checked."""
    found = []
    root = process.getroottree().getroot()
    for path in EXPRESSION_PATHS:
        for el in root.xpath(path, namespaces=NS):  # named by its BPMN element (conditionExpression, …)
            found += check(el.text or "", _owner_id(el), NAMED, {"where": kind(el)}, _available(el, availability))
    for timer, (parse, example) in TIMERS.items():
        for el in root.xpath(f".//bpmn:{timer}", namespaces=NS):
            found += _timer(el, timer, parse, example, availability)
    for param in process.xpath(".//spiffworkflow:parameter", namespaces=NS):
        text = N_("parameter %(name)s '%(expression)s': %(detail)s")
        at = _available(param, availability)
        found += check(param.get("value") or "", _owner_id(param), text, {"name": param.get("id")}, at)
    # The parser takes the text of the first child node, whatever it is (even a comment).
    for retrieval in root.xpath(".//bpmn:correlationPropertyRetrievalExpression", namespaces=NS):
        if len(retrieval):
            text = N_("correlation expression '%(expression)s': %(detail)s")
            found += check(retrieval[0].text or "", _owner_id(retrieval), text, {}, None)
    return found


def check(
    expression: str, element_id: str | None, text: str, params: dict[str, Any], available: frozenset[str] | None
) -> list[Problem]:
    """`text` names the expression; its `detail` says what is wrong (itself a message)."""
    detail = foreign.dialect(expression)
    if detail is None:
        try:
            safe_expression.check(expression)
        except safe_expression.UnsafeExpression as error:
            detail = error.message
    if detail is None and available is not None:
        missing = sorted(reads(expression) - available)
        if missing:
            detail = Message(
                N_(
                    "reads %(names)s, which is not set on every path to here (set here: %(known)s): check the name, "
                    "or set it in a form or a service task before"
                ),  # fmt: skip
                {"names": ", ".join(missing), "known": ", ".join(sorted(available)) or "—"},
            )
    if detail is None:
        return []
    return [problem(text, element_id, **params, expression=expression.strip(), detail=detail)]


def _timer(
    el: etree._Element, timer: str, parse: Any, example: str, availability: Availability | None
) -> list[Problem]:
    expression, owner = (el.text or "").strip(), _owner_id(el)
    where = {"where": timer}
    if foreign.unquoted_iso(expression):
        text = N_("%(where)s %(expression)s is an ISO 8601 value without quotes, which would be read as Python: "
                  "write it as a quoted string, \"%(expression)s\"")  # fmt: skip
        return [problem(text, owner, **where, expression=expression)]
    found = check(expression, owner, NAMED, where, _available(el, availability))
    if found:
        return found
    literal = ast.parse(expression, mode="eval").body
    if isinstance(literal, ast.Constant):
        try:
            if not isinstance(literal.value, str):
                raise ValueError
            parse(literal.value)
        except Exception:  # noqa: BLE001 — the engine's parsers raise bare Exceptions
            text = N_("%(where)s %(expression)s is not an ISO 8601 value of this kind (for example %(example)s)")
            return [problem(text, owner, **where, expression=expression, example=example)]
    return []


def _available(el: etree._Element, availability: Availability | None) -> frozenset[str] | None:
    """What is set where `el` is evaluated; a signal's payload at every event that throws it (what all of
    them have set)."""
    if availability is None:
        return None
    signal = next((a for a in el.iterancestors() if kind(a) == "signal"), None)
    if signal is None:
        return availability.at(el)
    throwers = availability.throwers(signal.get("id") or "")
    sets = [availability.before[node_id] for node_id in throwers]
    return frozenset.intersection(*sets) if sets else None


def _owner_id(element: etree._Element) -> str | None:
    while element is not None:
        name = kind(element)
        if element.get("id") and (name in OWNERS or name.endswith(FLOW_NODE_SUFFIXES)):
            return element.get("id")
        element = element.getparent()
    return None
