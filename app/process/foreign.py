"""What other tools write that this engine does not read, named as such with what to do here instead.

A diagram drawn in Camunda Modeler, Signavio, Bizagi or an Eclipse plugin is usually not wrong as BPMN:
it is written for another engine. Its expressions are JUEL (`${approved}`), FEEL (`= approved`) or
XPath (`bpmn:getDataObject(…)`); its tasks carry Camunda/Zeebe/Activiti/Flowable attributes (a Java
class, a form key, an assignee, candidate groups) that this engine would silently ignore; its process
is often `isExecutable="false"`; and the XML Schema's complaints come with namespace URIs and line
numbers. Each of these becomes a message naming the dialect, the element and the fix.

Decision: attributes of another engine that would change how the process runs (`ENGINE_ADVICE`) refuse
the diagram — silently ignoring them would run a different process than the one drawn. Attributes that
only describe the file (`HARMLESS`: version tags, history settings, modeler metadata), and every extension of
Signavio and Bizagi (labels, colours, stencils), are ignored.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from lxml import etree

from app.engine.model import BPMN_NS, SPIFF_NS
from app.messages import N_, Message
from app.process.problems import Problem, problem

VENDORS = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda",
    "http://camunda.org/schema/zeebe/1.0": "Zeebe",
    "http://activiti.org/bpmn": "Activiti",
    "http://flowable.org/bpmn": "Flowable",
}  # Signavio's and Bizagi's extensions describe the drawing (labels, colours, stencils): never refused
LOGIC = N_("put the logic in a service task with one of the app's service operations")
FORM = N_("set the task's form instead (formJsonSchemaFilename and formUiSchemaFilename)")
LANE = N_("put the task in a lane: the lane decides who works it")
ASYNC = N_("the engine runs each step inside the action that reaches it; remove it")
LOOP = N_("use the BPMN multi-instance settings (loop cardinality or input collection) instead")
ENGINE_ADVICE = {
    "class": LOGIC,
    "delegateExpression": LOGIC,
    "expression": LOGIC,
    "type": LOGIC,
    "topic": LOGIC,
    "taskDefinition": LOGIC,
    "ioMapping": LOGIC,
    "inputOutput": LOGIC,
    "field": LOGIC,
    "taskHeaders": LOGIC,
    "connector": LOGIC,
    "executionListener": LOGIC,
    "taskListener": LOGIC,
    "script": LOGIC,
    "decisionRef": LOGIC,
    "calledDecision": LOGIC,
    "resultVariable": LOGIC,
    "formKey": FORM,
    "formRef": FORM,
    "formData": FORM,
    "formField": FORM,
    "userTaskForm": FORM,
    "formDefinition": FORM,
    "assignee": LANE,
    "candidateUsers": LANE,
    "candidateGroups": LANE,
    "assignmentDefinition": LANE,
    "async": ASYNC,
    "asyncBefore": ASYNC,
    "asyncAfter": ASYNC,
    "exclusive": ASYNC,
    "jobPriority": ASYNC,
    "failedJobRetryTimeCycle": ASYNC,
    "collection": LOOP,
    "elementVariable": LOOP,
    "loopCharacteristics": LOOP,
    "calledElement": N_("call activities are not supported: use an embedded sub-process"),
    "subscription": N_("messages from outside are not received here: catch a signal the application throws"),
}
HARMLESS = {
    "versionTag",
    "historyTimeToLive",
    "isStartableInTasklist",
    "diagramRelationId",
    "properties",
    "property",
    "modelerTemplate",
    "modelerTemplateVersion",
    "taskPriority",
    "userTask",  # Zeebe's marker that a user task is one
    "modelerTemplateIcon",
    "errorMessage",
}

PREFIXES = {
    BPMN_NS: "bpmn",
    SPIFF_NS: "spiffworkflow",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
}
ID_NAMESPACES = set(PREFIXES) - {SPIFF_NS}
CLARK = re.compile(r"\{([^}]*)\}([\w.-]+)")

JUEL = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.S)
FEEL = re.compile(r"^\s*=(?!=)\s*(?P<body>.*)$", re.S)
XPATH = re.compile(r"getDataObject|getActivityProperty|getProcessVariable|^\s*/|\bxs:|\bfn:")
ISO = re.compile(r"^\s*(R\d*/)?(P(?=\d|T)[\dYMWDTHS.,]*|\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?)(/\S*)?\s*$")


def engine_attributes(root: etree._Element) -> Iterator[Problem]:
    """Each attribute or extension element of another engine that would change how the process runs."""
    for element in root.iter(etree.Element):
        vendor = VENDORS.get(etree.QName(element).namespace or "")
        if vendor is not None:  # an extension element, e.g. <camunda:formData>, <zeebe:taskDefinition>
            name = etree.QName(element).localname
            if name not in HARMLESS and _outermost_vendor_element(element):
                yield _named(vendor, name, _owner(element))
            continue
        for attribute in element.attrib:
            qname = etree.QName(attribute)
            vendor = VENDORS.get(qname.namespace or "")
            if vendor is not None and qname.localname not in HARMLESS:
                yield _named(vendor, qname.localname, element)


def _outermost_vendor_element(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is None or etree.QName(parent).namespace not in VENDORS


def _owner(element: etree._Element) -> etree._Element:
    while element.getparent() is not None and not (etree.QName(element).namespace == BPMN_NS and element.get("id")):
        element = element.getparent()
    return element


def _named(vendor: str, name: str, element: etree._Element) -> Problem:
    advice = ENGINE_ADVICE.get(name, N_("remove it"))
    text = N_("%(vendor)s's %(attribute)s is not read here: %(advice)s")
    return problem(text, element.get("id"), vendor=vendor, attribute=name, advice=Message(advice))


def dialect(expression: str) -> Message | None:
    """What an expression written for another engine is, and how to write it here; None for anything else."""
    juel = JUEL.match(expression)
    if juel:
        text = N_("this is a JUEL expression (Camunda 7, Activiti); write it in Python without ${ }: %(python)s")
        return Message(text, {"python": _python(juel.group("body"))})
    feel = FEEL.match(expression)
    if feel:
        text = N_("this is a FEEL expression (Camunda 8); write it in Python without the leading '=': %(python)s")
        return Message(text, {"python": _python(feel.group("body"))})
    if XPATH.search(expression):
        return Message(N_("this is an XPath expression (BPMN's default language); write it in Python over the "
                          "process variables, e.g. approved == True"))  # fmt: skip
    return None


def _python(body: str) -> str:
    """A JUEL or FEEL body with its operators in Python (a suggestion, checked again when it comes back)."""
    body = re.sub(r"&&|\band\b", " and ", body.strip())
    body = re.sub(r"\|\||\bor\b", " or ", body)
    body = re.sub(r"!(?!=)|\bnot\b", " not ", body)
    body = re.sub(r"\beq\b", "==", body)
    body = re.sub(r"\bne\b", "!=", body)
    body = body.replace("null", "None").replace("true", "True").replace("false", "False")
    return re.sub(r"\s+", " ", body).strip()


def unquoted_iso(expression: str) -> bool:
    """A bare ISO 8601 value (PT30M, R6/P1D, 2026-03-02T09:00): Python would read it as names and operators."""
    return bool(ISO.match(expression))


def readable_xml_names(detail: str) -> str:
    """An XML Schema message with its `{namespace}name`s written as `prefix:name`."""
    return CLARK.sub(lambda m: f"{PREFIXES.get(m.group(1), m.group(1))}:{m.group(2)}", detail)


def duplicate_ids(root: etree._Element) -> list[Problem]:
    """Each id used by more than one element, once, with the lines it stands on."""
    lines: dict[str, list[int]] = defaultdict(list)
    for element in root.iter(etree.Element):  # the BPMN schema's own elements: an extension's "id" is no id
        if element.get("id") and etree.QName(element).namespace in ID_NAMESPACES:
            lines[element.get("id")].append(element.sourceline or 0)
    text = N_("the id '%(id)s' is used by %(count)s elements (lines %(lines)s): every id must be unique; rename all "
              "but one")  # fmt: skip
    return [
        problem(text, element_id, id=element_id, count=len(found), lines=", ".join(map(str, found)))
        for element_id, found in lines.items()
        if len(found) > 1
    ]


def element_at(root: etree._Element, line: int) -> str | None:
    """The id of the element with an id that starts last at or before `line` (the one the line belongs to)."""
    best = None
    for element in root.iter(etree.Element):
        if element.sourceline is None or element.sourceline > line:
            continue
        if element.get("id"):
            best = element.get("id")
    return best
