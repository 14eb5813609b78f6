"""A parsed process model as the engine runs it: the SpiffWorkflow specs and what the app reads beside them.

The engine room only ever receives a model that the process owners' package built and checked
(`app.process.validation.load`); it never reads a document itself. `build_specs` is the one call into
SpiffWorkflow's parser, on a document that was already parsed safely and checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}


class SpecError(ValueError):
    """SpiffWorkflow's parser refused the document; `detail` is the library's own English text."""

    def __init__(self, detail: str, element_id: str | None = None):
        self.detail, self.element_id = detail, element_id
        super().__init__(detail)


@dataclass(frozen=True)
class UserTaskInfo:
    id: str
    name: str
    lane: str
    schema_file: str
    ui_file: str


@dataclass
class ProcessModel:
    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    lanes: dict[str, str]  # flow node id → lane name
    names: dict[str, str]  # element id → label
    user_tasks: dict[str, UserTaskInfo]
    forms: dict[str, dict] = field(default_factory=dict)  # file name → parsed JSON
    start_task: str | None = None  # the user task a new instance waits at first (its start form)

    def form(self, task_id: str) -> tuple[dict, dict]:
        info = self.user_tasks[task_id]
        return self.forms[info.schema_file], self.forms[info.ui_file]


def build_specs(root: etree._Element, process_id: str) -> tuple[Any, dict[str, Any]]:
    """The process's spec and its sub-process specs; raises SpecError. A fresh parser each time: a parser
    refuses a second document with the same process id."""
    parser = SpiffBpmnParser()  # the XSD check already ran (app.process.validation), collecting every error
    try:
        parser.add_bpmn_xml(root.getroottree(), filename="process.bpmn")
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except ValidationException as error:
        raise SpecError(str(error), error.id or None) from None
    except SpiffWorkflowException as error:
        raise SpecError(str(error)) from None
