"""Fixes the app applies to a draft for the process owner in one click from the draft page: marking the process
executable (Signavio, Bizagi and bpmn.io write isExecutable="false"; the modeler's panel has the setting too, but an
uploaded diagram is fixed without opening it). Each returns the changed diagram, or None when there is nothing to
fix; the draft saves it as any other diagram (audited, optimistically locked)."""

from __future__ import annotations

from lxml import etree

from app.engine.model import NS
from app.process import validation
from app.process.problems import ModelError

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def mark_executable(bpmn_xml: str) -> str | None:
    """The diagram with its main process (validation.main_process) executable, when no process is."""
    try:
        root = validation.parse_xml(bpmn_xml)
    except ModelError:
        return None
    processes = root.xpath("bpmn:process", namespaces=NS)
    if not processes or any(process.get("isExecutable") == "true" for process in processes):
        return None
    validation.main_process(processes).set("isExecutable", "true")
    return DECLARATION + etree.tostring(root, encoding="unicode")
