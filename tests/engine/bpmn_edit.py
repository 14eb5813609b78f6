"""Editing a copy of the shipped diagram in tests: a changed copy, find an element, add one, reach the process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lxml import etree

from app.engine.model import BPMN_NS, NS, SPIFF_NS

BPMN_FILE = Path(__file__).resolve().parents[2] / "processes" / "incident_management.bpmn"
DI = {
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}


def find(root: etree._Element, element_id: str) -> etree._Element:
    (element,) = root.xpath("//*[@id=$id]", id=element_id)
    return element


def bpmn(tag: str, parent: etree._Element | None = None, text: str | None = None, **attrs: str) -> etree._Element:
    """A new BPMN element, inside `parent` when there is one."""
    qname = f"{{{BPMN_NS}}}{tag}"
    element = etree.Element(qname, attrs) if parent is None else etree.SubElement(parent, qname, attrs)
    element.text = text
    return element


def process(root: etree._Element) -> etree._Element:
    return root.find("bpmn:process", NS)


def baseline() -> bytes:
    return BPMN_FILE.read_bytes()


def variant(mutate: Callable[[etree._Element], object]) -> bytes:
    """The shipped diagram, changed by `mutate(root)`."""
    root = etree.fromstring(baseline())
    mutate(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def spiff(tag: str, parent: etree._Element, text: str | None = None, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{SPIFF_NS}}}{tag}", attrs)
    element.text = text
    return element


def extensions(element: etree._Element) -> etree._Element:
    found = element.find("bpmn:extensionElements", NS)
    if found is None:
        found = bpmn("extensionElements")
        element.insert(0, found)
    return found


def operator(root: etree._Element, task_id: str) -> etree._Element:
    return find(root, task_id).find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)


def rename_id(root: etree._Element, old: str, new: str) -> None:
    """Rename an element and every reference to it (flows, lanes, diagram)."""
    for element in root.iter(etree.Element):
        for name, value in element.attrib.items():
            if value == old:
                element.set(name, new)
        if element.text is not None and element.text.strip() == old:
            element.text = new
