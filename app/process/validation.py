"""Checking a process document and its forms, and building the model the engine runs from it.

`validate` lists every problem of a document without running any of it; `load` returns the parsed
model or raises with those problems. The same checks run when a version is published and when a
version is loaded, so nothing unchecked ever reaches the engine. What the incident process must keep
for the application (start form, signals, operations, lanes) is checked by app.process.contract.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.spiff.parser import VALIDATOR

from app.engine import operations
from app.engine.lanes import LANES
from app.engine.model import BPMN_NS, NS, ProcessModel, SpecError, UserTaskInfo, build_specs
from app.forms import reference_and_limit_problems
from app.messages import N_, Message
from app.process import contract, elements, expressions, foreign, lint, waits
from app.process.problems import ModelError, Problem
from app.process.problems import problem as _problem
from app.process.variables import Availability

MAX_BPMN_BYTES = 2_000_000
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
MAX_ELEMENTS = 10_000  # XML elements (shapes and waypoints included): ~9 times the bundled diagram
MANUAL_TASKS_XPATH = " | ".join(f".//bpmn:{kind}" for kind in waits.MANUAL_TASKS)  # where the engine waits for a person


def parse_xml(text: str | bytes) -> etree._Element:
    """Parse untrusted XML: bounded size, no DTD, no entities, no network."""
    data = text.encode() if isinstance(text, str) else text
    if len(data) > MAX_BPMN_BYTES:
        raise ModelError([_problem(N_("the file is larger than %(mb)s MB"), mb=MAX_BPMN_BYTES // 1_000_000)])
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        if _has_doctype(data):  # an entity (XXE, entity bomb) fails as a syntax error: name the real cause
            raise ModelError([Problem(NO_DOCTYPE)]) from None
        # The detail is lxml's own (English) text, shown as the library wrote it.
        raise ModelError([_problem(N_("not well-formed XML: %(detail)s"), detail=str(error))]) from None
    if root.getroottree().docinfo.doctype:
        raise ModelError([Problem(NO_DOCTYPE)])
    count = sum(1 for _ in root.iter())
    if count > MAX_ELEMENTS:
        raise ModelError([_problem(TOO_MANY_ELEMENTS, count=count, limit=MAX_ELEMENTS)])
    return root


NO_DOCTYPE = Message(N_("a DOCTYPE (and so any entity) is not allowed in a BPMN file"))
TOO_MANY_ELEMENTS = N_("The diagram has %(count)s XML elements; at most %(limit)s are accepted.")


class _DoctypeFound(Exception):
    pass


class _DoctypeProbe:
    """Parser target that stops at a DOCTYPE, before any entity is declared or used."""

    def doctype(self, *args: Any) -> None:
        raise _DoctypeFound

    def close(self) -> None:
        return None


def _has_doctype(data: bytes) -> bool:
    parser = etree.XMLParser(target=_DoctypeProbe(), resolve_entities=False, no_network=True, load_dtd=False)
    try:
        etree.fromstring(data, parser)
    except _DoctypeFound:
        return True
    except etree.XMLSyntaxError:
        return False
    return False


def validate(text: str | bytes, forms: Mapping[str, str]) -> list[Problem]:
    """Every problem of the document and its forms, the contract (app.process.contract) included; an empty
    list means it can be published.

    Checked once per content, like `load`: a draft page shows the same draft many times."""
    key = content_key(text, forms)
    with _PARSED_LOCK:
        if key in _CHECKED:
            _CHECKED.move_to_end(key)
            return _CHECKED[key]
    try:
        _build(text, forms, publishing=True)
        found: list[Problem] = []
    except ModelError as error:
        found = error.problems
    with _PARSED_LOCK:
        _CHECKED[key] = found
        while len(_CHECKED) > PARSED_KEPT:
            _CHECKED.popitem(last=False)
    return found


def load_for_publication(text: str | bytes, forms: Mapping[str, str]) -> ProcessModel:
    """The model of a document about to be published, with every check `validate` runs; raises ModelError."""
    found = validate(text, forms)
    if found:
        raise ModelError(found)
    return load(text, forms)


def load(text: str | bytes, forms: Mapping[str, str]) -> ProcessModel:
    """The parsed model of a published version; raises ModelError.

    It is checked again for what keeps it safe (the XML, the schema, no code, safe expressions), not for
    what a publication is checked for since (`validate`): a check added later must not stop the incidents
    already running on a version. Checking and parsing costs about 0.1 s, so a document is parsed once per
    process: the model is only ever read (every instance of a version already shares it), and a failed check
    is not kept.
    """
    key = content_key(text, forms)
    with _PARSED_LOCK:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            return _PARSED[key]
    model = _build(text, forms, publishing=False)
    with _PARSED_LOCK:
        _PARSED[key] = model
        while len(_PARSED) > PARSED_KEPT:
            _PARSED.popitem(last=False)
    return model


PARSED_KEPT = 32  # documents (versions and drafts) kept parsed, least recently used dropped first
_PARSED: OrderedDict[str, ProcessModel] = OrderedDict()
_CHECKED: OrderedDict[str, list[Problem]] = OrderedDict()  # what `validate` found, by content
_PARSED_LOCK = threading.Lock()


def content_key(text: str | bytes, forms: Mapping[str, str]) -> str:
    """What a document and its forms are known by in the caches (theirs, and the dry run's)."""
    digest = hashlib.sha256(text.encode() if isinstance(text, str) else text)
    digest.update(json.dumps(dict(forms), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _build(text: str | bytes, forms: Mapping[str, str], *, publishing: bool) -> ProcessModel:
    """The model, or ModelError with every problem found; `publishing` adds what only a publication is
    checked for (other engines' attributes, messages, variables, the contract)."""
    root = parse_xml(text)
    problems = foreign.duplicate_ids(root)
    problems += _schema_problems(root, duplicates=bool(problems))
    if problems:  # the remaining checks assume the XSD structure
        raise ModelError(problems)
    problems += list(foreign.engine_attributes(root)) if publishing else []
    problems += lint.lint(root)  # bpmnlint's recommended errors
    process, process_problems = _executable_process(root)
    problems += process_problems
    lanes, _drawn = lanes_of(process)
    problems += elements.problems(process, publishing=publishing) + _lane_problems(process, lanes)
    user_tasks, parsed_forms, form_problems = _user_tasks(process, lanes, forms)
    problems += form_problems
    form_variables = {
        task_id: list(parsed_forms.get(info.schema_file, {}).get("properties", {}))
        for task_id, info in user_tasks.items()
    }
    availability = Availability(process, form_variables) if publishing else None
    problems += expressions.problems(process, availability)
    problems += _service_problems(process)
    problems += _loop_problems(process)
    names = {el.get("id"): el.get("name") or "" for el in root.iter() if el.get("id")}
    model = ProcessModel(process.get("id"), None, {}, lanes, names, user_tasks, parsed_forms, _start_task(process))
    if publishing:
        problems += contract.problems(process, model)
    if problems:
        raise ModelError(problems)
    model.spec, model.subprocess_specs = _spiff_spec(root, process.get("id"))
    return model


def main_process(candidates: list[etree._Element]) -> etree._Element:
    """Of several processes, the one that is meant to run: the incident process's id, else the largest."""
    chosen = next((p for p in candidates if p.get("id") == contract.PROCESS_ID), None)
    return chosen if chosen is not None else max(candidates, key=lambda p: len(p))


def _executable_process(root: etree._Element) -> tuple[etree._Element, list[Problem]]:
    """The process to check and run, and what is wrong with the choice. Every other check runs on it even
    when the choice is wrong, so a diagram from another tool gets all its problems at once."""
    processes = root.xpath("bpmn:process", namespaces=NS)
    if not processes:
        raise ModelError([_problem(N_("the diagram has no process: draw the incident process in a pool (or without "
                                      "one) and mark it executable"))])  # fmt: skip
    executable = [process for process in processes if process.get("isExecutable") == "true"]
    chosen = main_process(executable or processes)
    found = []
    if not executable:
        text = N_("the process is not executable (isExecutable=\"%(value)s\"; Signavio, Bizagi and bpmn.io write "
                  "that by default): mark it executable, isExecutable=\"true\"")  # fmt: skip
        found.append(_problem(text, chosen.get("id"), value=chosen.get("isExecutable") or "false"))
    for other in processes:
        if other is chosen or (executable and other.get("isExecutable") != "true"):
            continue  # a pool kept for documentation: the engine does not read it
        if other.xpath("bpmn:*[bpmn:incoming or bpmn:outgoing]", namespaces=NS):
            text = N_("a second process in the diagram: only one process runs here (%(chosen)s); remove this one, "
                      "or draw its pool as a collapsed pool without a process")  # fmt: skip
            found.append(_problem(text, other.get("id"), chosen=chosen.get("id")))
    return chosen, found


def _start_task(process: etree._Element) -> str | None:
    """The first user task on the path from the (blank) start event, following the first flow out."""
    starts = process.xpath("bpmn:startEvent", namespaces=NS)
    node, seen = (starts[0] if starts else None), set()
    while node is not None and node.get("id") not in seen:
        seen.add(node.get("id"))
        if _local(node) == "userTask":
            return node.get("id")
        outgoing = node.xpath("bpmn:outgoing/text()", namespaces=NS)
        flow = process.xpath("bpmn:sequenceFlow[@id=$id]", id=outgoing[0].strip(), namespaces=NS) if outgoing else []
        target = flow[0].get("targetRef") if flow else None
        found = process.xpath("*[@id=$id]", id=target) if target else []
        node = found[0] if found else None
    return None


def _schema_problems(root: etree._Element, *, duplicates: bool) -> list[Problem]:
    """The XML Schema's complaints, each on the element it is about, with `prefix:name`s instead of namespace URIs.
    With `duplicates`, the complaints about ids are left out: duplicate_ids names them better."""
    VALIDATOR.preprocess(root)
    if VALIDATOR.validator.validate(root):
        return []
    # The detail is the XML Schema validator's (lxml's) own English text, with readable names.
    return [
        _problem(
            N_("line %(line)s: %(detail)s"),
            foreign.element_at(root, error.line),
            line=error.line,
            detail=foreign.readable_xml_names(error.message),
        )  # fmt: skip
        for error in VALIDATOR.validator.error_log
        if not (duplicates and "xs:ID" in error.message)
    ]


def lanes_of(process: etree._Element) -> tuple[dict[str, str], set[str]]:
    """Each flow node's lane name, and which of them were read from the drawing.

    A node a lane lists (flowNodeRef) is in that lane. bpmn-js lists nothing for what is drawn inside an
    expanded sub-process that spans lanes, so a node no lane lists is in the innermost lane whose shape holds
    the centre of the node's shape (the drawing is what the process owner sees)."""
    lanes = {
        ref.text.strip(): ref.getparent().get("name") or ""
        for ref in process.xpath(".//bpmn:lane/bpmn:flowNodeRef", namespaces=NS)
        if ref.text
    }
    root = process.getroottree().getroot()
    bounds = {}
    for shape in root.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
        box = shape.find(f"{{{DC_NS}}}Bounds")
        if box is not None and shape.get("bpmnElement"):
            try:
                box_values = tuple(float(box.get(k) or "x") for k in ("x", "y", "width", "height"))
                bounds[shape.get("bpmnElement")] = box_values
            except ValueError:
                continue
    lane_boxes = sorted(((bounds[lane.get("id")], lane.get("name") or "")
                         for lane in process.iter(f"{{{BPMN_NS}}}lane") if lane.get("id") in bounds),
                        key=lambda item: item[0][2] * item[0][3])  # fmt: skip
    drawn = set()
    for node in process.xpath(MANUAL_TASKS_XPATH, namespaces=NS):
        node_id = node.get("id")
        if node_id in lanes or node_id not in bounds:
            continue
        x, y, width, height = bounds[node_id]
        centre = (x + width / 2, y + height / 2)
        for (lx, ly, lw, lh), name in lane_boxes:
            if lx <= centre[0] <= lx + lw and ly <= centre[1] <= ly + lh:
                lanes[node_id] = name
                drawn.add(node_id)
                break
    return lanes, drawn


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _lane_problems(process: etree._Element, lanes: Mapping[str, str]) -> list[Problem]:
    problems = [
        _problem(
            N_("lane '%(lane)s' is not known (known lanes: %(known)s)"),
            lane.get("id"),
            lane=lane.get("name"),
            known=", ".join(LANES),
        )
        for lane in process.xpath(".//bpmn:lane", namespaces=NS)
        if lane.get("name") not in LANES
    ]
    for task in process.xpath(MANUAL_TASKS_XPATH, namespaces=NS):
        if task.get("id") not in lanes:
            if _local(task) == "userTask":
                text = N_("user task is not in any lane (no lane lists it, and it is drawn in none), so nobody "
                          "could work it")  # fmt: skip
            else:
                text = N_("%(kind)s waits for a person but is not in any lane (no lane lists it, and it is drawn "
                          "in none), so nobody could work it")  # fmt: skip
            problems.append(_problem(text, task.get("id"), kind=_local(task)))
    return problems


def _loop_problems(process: etree._Element) -> list[Problem]:
    text = N_("these elements form a loop with no user task or timer to wait at, so it would run without end: %(loop)s")
    return [
        _problem(text, loop[0].get("id"), loop=", ".join(el.get("name") or el.get("id") for el in loop))
        for loop in waits.loops_without_wait(process)
    ]


def _service_problems(process: etree._Element) -> list[Problem]:
    problems = []
    for task in process.xpath(".//bpmn:serviceTask", namespaces=NS):
        task_id = task.get("id")
        operators = task.xpath("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
        if len(operators) != 1:
            problems.append(_problem(N_("a service task needs exactly one service operation"), task_id))
            continue
        operator = operators[0]
        name = operator.get("id")
        operation = operations.OPERATIONS.get(name)
        if operation is None:
            known = ", ".join(operations.OPERATIONS)
            text = N_("unknown service operation '%(operation)s' (known: %(known)s)")
            problems.append(_problem(text, task_id, operation=name, known=known))
            continue
        if _is_element_id(process, name):
            text = N_("operation name '%(operation)s' is also an element id; rename the element")
            problems.append(_problem(text, task_id, operation=name))
        given = {p.get("id") for p in operator.xpath(".//spiffworkflow:parameter", namespaces=NS)}
        if given != set(operation.params):
            if operation.params:
                text = N_("operation '%(operation)s' takes parameters: %(expected)s")
                problems.append(_problem(text, task_id, operation=name, expected=", ".join(operation.params)))
            else:
                text = N_("operation '%(operation)s' takes parameters: (none)")
                problems.append(_problem(text, task_id, operation=name))
        if not operator.get("resultVariable"):
            problems.append(_problem(N_("operation '%(operation)s' needs a result variable"), task_id, operation=name))
    return problems


def _is_element_id(process: etree._Element, name: str) -> bool:
    """SpiffWorkflow resolves flow targets by id anywhere in the document, operators included."""
    root = process.getroottree().getroot()
    return any(_local(el) != "serviceTaskOperator" for el in root.xpath("//*[@id=$id]", id=name))


def _user_tasks(
    process: etree._Element, lanes: Mapping[str, str], forms: Mapping[str, str]
) -> tuple[dict[str, UserTaskInfo], dict[str, dict], list[Problem]]:
    infos, parsed, problems = {}, {}, []
    for task in process.xpath(MANUAL_TASKS_XPATH, namespaces=NS):
        task_id = task.get("id")
        props = {
            p.get("name"): p.get("value")
            for p in task.xpath("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
        }
        files = (props.get("formJsonSchemaFilename"), props.get("formUiSchemaFilename"))
        if not all(files):
            if _local(task) == "userTask":
                text = N_("user task needs formJsonSchemaFilename and formUiSchemaFilename")
            else:  # the engine stops at a manual or plain task for a person, exactly as at a user task
                text = N_("a %(kind)s waits for a person like a user task, so it needs a form "
                          "(formJsonSchemaFilename and formUiSchemaFilename); or make it a user task")  # fmt: skip
            problems.append(_problem(text, task_id, kind=_local(task)))
            continue
        for file_name in files:
            if file_name in parsed:
                continue
            document, problem = _form_document(file_name, forms, is_schema=file_name == files[0])
            if problem:
                problems.append(Problem(problem, task_id))
            else:
                parsed[file_name] = document
        infos[task_id] = UserTaskInfo(task_id, task.get("name") or task_id, lanes.get(task_id, ""), *files)
    return infos, parsed, problems


def _form_document(file_name: str, forms: Mapping[str, str], *, is_schema: bool) -> tuple[dict | None, Message | None]:
    """The parsed form file, or what is wrong with it (a detail is the JSON parser's or jsonschema's English text)."""
    file = {"file": file_name}
    if file_name not in forms:
        return None, Message(N_("form file '%(file)s' is missing"), file)
    try:
        document = json.loads(forms[file_name])
    except ValueError as error:
        return None, Message(N_("form file '%(file)s' is not valid JSON: %(detail)s"), {**file, "detail": str(error)})
    if not isinstance(document, dict):
        return None, Message(N_("form file '%(file)s' must contain a JSON object"), file)
    if is_schema:
        try:
            Draft202012Validator.check_schema(document)
        except SchemaError as error:
            text = N_("form file '%(file)s' is not a valid JSON Schema: %(detail)s")
            return None, Message(text, {**file, "detail": error.message})
        if document.get("type") != "object":
            return None, Message(N_("form file '%(file)s' must describe an object"), file)
        problems = reference_and_limit_problems(document)
        if problems:
            return None, Message(N_("form file '%(file)s': %(problem)s"), {**file, "problem": problems[0]})
    return document, None


def _spiff_spec(root: etree._Element, process_id: str) -> tuple[Any, dict[str, Any]]:
    try:
        return build_specs(root, process_id)
    # SpiffWorkflow's texts are the library's own English, shown as it wrote them.
    except SpecError as error:
        raise ModelError([_problem(N_("%(detail)s"), error.element_id, detail=error.detail)]) from None
