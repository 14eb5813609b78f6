"""Process drafts: a process owner's unpublished diagram and forms, saved, checked, and published.

A draft starts as a copy of a published version (normally the latest): its diagram and every form of that
version. It is changed by saving a diagram (from the browser's modeler, or an uploaded `.bpmn` file) or
the forms of its user tasks; each save names the `lock_version` the editor started from, and a save
against a draft that someone saved in the meantime is refused with `DraftConflict` (nothing is
overwritten; the editor keeps what was typed). A diagram is only ever parsed by
`app.process.validation.parse_xml` (no DOCTYPE, no entities, no network, size limit), and checking a draft
runs `app.process.validation.validate`, which never executes anything in it.

Forms: `forms_json` holds every form file of the draft. Saving forms merges the edited files into it
(changed files replaced, new files added, none removed); publishing keeps only the files the diagram
references (`versions.publish`), so a form that is no longer referenced simply stays behind in the draft.

Publishing (`publish`) goes through `versions.publish`, which checks everything again. Decision: a
published draft is **kept, marked published** (`status = "published"`, `published_version_id`), as the
record of who prepared the version; it can no longer be changed — the next change starts a new draft.
A draft identical to the latest version publishes nothing and stays open. An open draft can be discarded
(deleted).

Every change is audited: draft_created, draft_diagram_saved (from the modeler or an upload, with the
diagram's size and SHA-256), draft_forms_saved (the files), draft_discarded; publishing writes
version_published (app/process/versions.py).

No Flask here: the web layer (app/process/web.py) turns the errors' `Message`s into text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app import audit
from app.engine.model import BPMN_NS, NS
from app.forms import reference_and_limit_problems
from app.messages import N_, Message
from app.models import ProcessVersion, utcnow
from app.process import validation, versions
from app.process.models import ProcessDraft
from app.process.problems import ModelError, Problem
from app.process.validation import MANUAL_TASKS_XPATH, MAX_BPMN_BYTES, NO_DOCTYPE, TOO_MANY_ELEMENTS

OPEN = "open"
PUBLISHED = "published"

# Forms a diagram references but the draft does not have yet start from these.
NEW_SCHEMA = '{\n  "type": "object",\n  "properties": {}\n}\n'
NEW_UI_SCHEMA = "{}\n"


class DraftError(Exception):
    def __init__(self, message: Message):
        self.message = message
        super().__init__(str(message))


class DraftNotFound(DraftError):
    def __init__(self, draft_id: int):
        super().__init__(Message(N_("Draft %(id)s does not exist."), {"id": draft_id}))


class DraftClosed(DraftError):
    """The draft was published: it is kept as a record and cannot change any more."""

    def __init__(self, draft: ProcessDraft):
        self.version_id = draft.published_version_id
        super().__init__(Message(N_("This draft has been published and can no longer be changed. Start a new draft.")))


class DraftConflict(DraftError):
    """Someone saved the draft after the editor opened it; nothing was saved."""

    def __init__(
        self, updated_by: str | None = None, updated_at: datetime | None = None, lock_version: int | None = None
    ):
        self.updated_by, self.updated_at, self.lock_version = updated_by, updated_at, lock_version
        super().__init__(Message(N_("Someone else saved this draft after you opened it.")))


class InvalidDiagram(DraftError):
    """The file is not something to store as a diagram at all (not XML, a DOCTYPE, too large, not BPMN)."""


class InvalidForms(DraftError):
    def __init__(self, errors: dict[str, Message]):
        self.errors = errors  # form file name → what is wrong with it
        super().__init__(Message(N_("Some forms are not valid; nothing was saved.")))


class NoVersion(DraftError):
    def __init__(self) -> None:
        super().__init__(Message(N_("No process version has been published yet.")))


@dataclass(frozen=True)
class FormRef:
    """A user task and the two form files it names."""

    task_id: str
    task_name: str
    schema_file: str
    ui_file: str


@dataclass(frozen=True)
class ProblemView:
    message: Message  # the web layer shows it with `translate`
    element_id: str | None
    element_name: str

    def as_json(self) -> dict[str, str | None]:
        """The problem with its message in English (the web layer replaces it with the reader's language)."""
        return {"message": str(self.message), "element_id": self.element_id, "element_name": self.element_name}


@dataclass(frozen=True)
class FormChanges:
    added: list[str]
    removed: list[str]
    changed: list[str]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


# --- reading -----------------------------------------------------------------------------------------------


def get(session: Session, draft_id: int) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise DraftNotFound(draft_id)
    return draft


def listing(session: Session, limit: int = 50) -> list[ProcessDraft]:
    """Open drafts first, then published ones, most recently changed first."""
    query = select(ProcessDraft).order_by((ProcessDraft.status == OPEN).desc(), ProcessDraft.updated_at.desc())
    return list(session.scalars(query.limit(limit)))


def forms_of(draft: ProcessDraft | ProcessVersion) -> dict[str, str]:
    return json.loads(draft.forms_json)


def read_diagram(data: bytes | str) -> str:
    """The text of an uploaded or saved diagram, or InvalidDiagram saying plainly why it is refused."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    limit = {"mb": MAX_BPMN_BYTES // 1_000_000}
    if len(raw) > MAX_BPMN_BYTES:
        raise InvalidDiagram(Message(N_("The file is larger than %(mb)s MB, the limit for a diagram."), limit))
    if not raw.strip():
        raise InvalidDiagram(Message(N_("The file is empty.")))
    try:
        root = validation.parse_xml(raw)
    except ModelError as error:
        message = error.problems[0].message if error.problems else Message("")
        if message == NO_DOCTYPE:
            raise InvalidDiagram(
                Message(
                    N_(
                        "The file contains a DOCTYPE declaration, which is not allowed in a BPMN file "
                        "(it could declare entities that read files or the network)."
                    )
                )
            ) from None
        if message.text == TOO_MANY_ELEMENTS:
            raise InvalidDiagram(message) from None
        # The reason is the XML parser's own (English) explanation, shown as the library wrote it.
        reason = message.params.get("detail", str(message))
        raise InvalidDiagram(
            Message(N_("The file is not XML, so it cannot be a BPMN diagram (%(reason)s)."), {"reason": reason})
        ) from None
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise InvalidDiagram(
            Message(
                N_("The file is XML but not a BPMN 2.0 diagram: its root element is %(tag)s, not bpmn:definitions."),
                {"tag": etree.QName(root).localname},
            )
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # another encoding: store the parsed document as text
        return etree.tostring(root, encoding="unicode")


def _root(bpmn_xml: str) -> etree._Element | None:
    try:
        return validation.parse_xml(bpmn_xml)
    except ModelError:
        return None


def element_names(bpmn_xml: str) -> dict[str, str]:
    root = _root(bpmn_xml)
    if root is None:
        return {}
    return {el.get("id"): el.get("name") or "" for el in root.iter() if el.get("id")}


def executable_process_id(bpmn_xml: str) -> str | None:
    root = _root(bpmn_xml)
    found = root.xpath("bpmn:process[@isExecutable='true']/@id", namespaces=NS) if root is not None else []
    return str(found[0]) if len(found) == 1 else None


def drawn_lanes(bpmn_xml: str) -> list[tuple[str, str, str]]:
    """(task id, task name, lane) of each task no lane lists, in the lane it is drawn in (validation.lanes_of)."""
    root = _root(bpmn_xml)
    processes = root.xpath("bpmn:process[@isExecutable='true']", namespaces=NS) if root is not None else []
    if len(processes) != 1:
        return []
    lanes, drawn = validation.lanes_of(processes[0])
    names = element_names(bpmn_xml)
    return [(task_id, names.get(task_id, ""), lanes[task_id]) for task_id in sorted(drawn)]


def form_references(bpmn_xml: str) -> list[FormRef]:
    """The user tasks of the diagram with the form files they name (a name may be missing: "")."""
    root = _root(bpmn_xml)
    if root is None:
        return []
    refs = []
    tasks = [task for process in root.xpath("bpmn:process", namespaces=NS)
             for task in process.xpath(MANUAL_TASKS_XPATH, namespaces=NS)]  # fmt: skip
    for task in tasks:
        props = {
            p.get("name"): p.get("value") or ""
            for p in task.xpath("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
        }
        refs.append(
            FormRef(
                task.get("id") or "",
                task.get("name") or "",
                props.get("formJsonSchemaFilename", ""),
                props.get("formUiSchemaFilename", ""),
            )
        )
    return refs


def referenced_files(refs: list[FormRef]) -> tuple[list[str], set[str]]:
    """Every form file the tasks name, in order of first mention, and which of them are JSON Schemas."""
    names: list[str] = []
    schemas: set[str] = set()
    for ref in refs:
        for name in (ref.schema_file, ref.ui_file):
            if name and name not in names:
                names.append(name)
        if ref.schema_file:
            schemas.add(ref.schema_file)
    return names, schemas


def editable_forms(draft: ProcessDraft) -> list[tuple[str, str, bool]]:
    """(file name, text, is new) for every form the draft's diagram references; a new one gets a skeleton."""
    names, schemas = referenced_files(form_references(draft.bpmn_xml))
    forms = forms_of(draft)
    result = []
    for name in names:
        if name in forms:
            result.append((name, forms[name], False))
        else:
            result.append((name, NEW_SCHEMA if name in schemas else NEW_UI_SCHEMA, True))
    return result


def problems(draft: ProcessDraft) -> list[ProblemView]:
    """Every problem that would refuse publication, with the offending element's name. Runs nothing."""
    found = validation.validate(draft.bpmn_xml, forms_of(draft))
    return describe(found, draft.bpmn_xml)


def describe(found: list[Problem], bpmn_xml: str) -> list[ProblemView]:
    names = element_names(bpmn_xml) if found else {}
    return [ProblemView(p.message, p.element_id, names.get(p.element_id or "", "")) for p in found]


def form_changes(old: Mapping[str, str], new: Mapping[str, str]) -> FormChanges:
    return FormChanges(
        added=sorted(set(new) - set(old)),
        removed=sorted(set(old) - set(new)),
        changed=sorted(
            name
            for name in set(old) & set(new)
            if versions.normalized_form(old[name]) != versions.normalized_form(new[name])
        ),
    )


def published_forms(draft: ProcessDraft) -> dict[str, str]:
    """The forms publishing would keep: those the diagram references (that the draft has)."""
    names, _ = referenced_files(form_references(draft.bpmn_xml))
    forms = forms_of(draft)
    return {name: forms[name] for name in sorted(names) if name in forms}


# --- checking forms ----------------------------------------------------------------------------------------


def check_form(text: str, *, is_schema: bool) -> Message | None:
    """What is wrong with a form file's text, or None; the same rules publication applies."""
    try:
        document = json.loads(text)
    except ValueError as error:  # the details are the JSON parser's and jsonschema's English texts, as written
        return Message(N_("Not valid JSON: %(error)s"), {"error": str(error)})
    if not isinstance(document, dict):
        return Message(N_("The file must contain a JSON object ({ … })."))
    if is_schema:
        try:
            Draft202012Validator.check_schema(document)
        except SchemaError as error:
            return Message(N_("Not a valid JSON Schema: %(error)s"), {"error": error.message})
        if document.get("type") != "object":
            return Message(N_('A form schema must describe an object ("type": "object").'))
        problems = reference_and_limit_problems(document)
        if problems:
            return problems[0]
    return None


# --- changing ----------------------------------------------------------------------------------------------


def create(
    session: Session, actor: audit.Actor, version: ProcessVersion | None = None, comment: str = ""
) -> ProcessDraft:
    """A new draft: a copy of the version's diagram and forms (by default the latest version)."""
    version = version or versions.latest(session)
    if version is None:
        raise NoVersion()
    now = utcnow()
    draft = ProcessDraft(
        process_id=version.process_id,
        bpmn_xml=version.bpmn_xml,
        forms_json=version.forms_json,
        comment=comment,
        status=OPEN,
        base_version_id=version.id,
        created_by=actor.name,
        created_at=now,
        updated_by=actor.name,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    _record(session, "draft_created", actor, draft, base_version=version.version)
    return draft


def _record(session: Session, kind: str, actor: audit.Actor, draft: ProcessDraft, **data: object) -> None:
    data = {"draft": draft.id, "process_id": draft.process_id, **data}
    audit.append(session, kind=kind, actor=actor, at=utcnow(), data=data)


def _editable(session: Session, draft_id: int, lock_version: int) -> ProcessDraft:
    draft = get(session, draft_id)
    if draft.status != OPEN:
        raise DraftClosed(draft)
    if draft.lock_version != lock_version:
        raise DraftConflict(draft.updated_by, draft.updated_at, draft.lock_version)
    return draft


def _touch(session: Session, draft: ProcessDraft, actor: audit.Actor) -> ProcessDraft:
    draft.updated_by = actor.name
    draft.updated_at = utcnow()
    try:
        session.flush()  # UPDATE … WHERE lock_version = the one read: a concurrent save loses here
    except StaleDataError:
        raise DraftConflict() from None
    return draft


def save_diagram(
    session: Session, draft_id: int, lock_version: int, data: bytes | str, actor: audit.Actor, source: str = "modeler"
) -> ProcessDraft:
    """Store a diagram (which may still have problems: they are listed, not refused, until publication).
    `source` says how it came: "modeler" or "upload"."""
    text = read_diagram(data)
    draft = _editable(session, draft_id, lock_version)
    draft.bpmn_xml = text
    draft.process_id = executable_process_id(text) or draft.process_id
    _touch(session, draft, actor)
    digest = hashlib.sha256(text.encode()).hexdigest()
    _record(session, "draft_diagram_saved", actor, draft, source=source, characters=len(text), sha256=digest)
    return draft


def save_forms(
    session: Session, draft_id: int, lock_version: int, edited: Mapping[str, str], actor: audit.Actor
) -> ProcessDraft:
    """Check every edited form file, then merge them into the draft's forms: all of them, or none."""
    draft = get(session, draft_id)
    names, schemas = referenced_files(form_references(draft.bpmn_xml))
    known = set(names) | set(forms_of(draft))
    errors: dict[str, Message] = {}
    cleaned: dict[str, str] = {}
    for name, text in edited.items():
        text = text.replace("\r\n", "\n")  # browsers send CRLF from a textarea
        if name not in known:
            errors[name] = Message(N_("The diagram does not reference this form."))
            continue
        problem = check_form(text, is_schema=name in schemas or name.endswith(".schema.json"))
        if problem is not None:
            errors[name] = problem
        cleaned[name] = text
    if errors:
        raise InvalidForms(errors)
    draft = _editable(session, draft_id, lock_version)
    before = forms_of(draft)
    draft.forms_json = json.dumps(merge_forms(before, cleaned), ensure_ascii=False)
    _touch(session, draft, actor)
    changed = sorted(name for name, text in cleaned.items() if before.get(name) != text)
    _record(session, "draft_forms_saved", actor, draft, files=changed)
    return draft


def merge_forms(current: Mapping[str, str], edited: Mapping[str, str]) -> dict[str, str]:
    """The draft's forms with the edited files replaced and new files added; nothing is removed."""
    merged = dict(current)
    merged.update(edited)
    return dict(sorted(merged.items()))


def publish(
    session: Session, draft_id: int, lock_version: int, actor: audit.Actor, comment: str
) -> tuple[ProcessVersion, bool]:
    """Publish exactly the draft that was reviewed (its lock_version); returns (version, created).

    Raises ModelError with every problem when the diagram or its forms are not acceptable (nothing is
    published then), DraftConflict when the draft changed after the review. An unchanged draft publishes
    nothing (created is False) and stays open.
    """
    draft = _editable(session, draft_id, lock_version)
    version, created = versions.publish(session, draft.bpmn_xml, forms_of(draft), actor, comment)
    if created:
        draft.comment = comment
        draft.status = PUBLISHED
        draft.published_version_id = version.id
        _touch(session, draft, actor)
    return version, created


def discard(session: Session, draft_id: int, actor: audit.Actor) -> None:
    """Delete an open draft; its audit row keeps who discarded what (the diagram's SHA-256)."""
    draft = get(session, draft_id)
    if draft.status != OPEN:
        raise DraftClosed(draft)
    digest = hashlib.sha256(draft.bpmn_xml.encode()).hexdigest()
    _record(session, "draft_discarded", actor, draft, sha256=digest, created_by=draft.created_by)
    session.delete(draft)
    session.flush()


__all__ = [
    "DraftClosed",
    "DraftConflict",
    "DraftError",
    "DraftNotFound",
    "FormChanges",
    "FormRef",
    "InvalidDiagram",
    "InvalidForms",
    "NoVersion",
    "ProblemView",
    "check_form",
    "create",
    "describe",
    "discard",
    "drawn_lanes",
    "editable_forms",
    "element_names",
    "form_changes",
    "form_references",
    "forms_of",
    "get",
    "listing",
    "merge_forms",
    "problems",
    "publish",
    "published_forms",
    "read_diagram",
    "save_diagram",
    "save_forms",
]
