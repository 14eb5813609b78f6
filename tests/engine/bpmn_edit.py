"""Editing a copy of the shipped diagram in tests: find an element, add one, reach the process."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from app.engine.model import BPMN_NS, NS

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
