"""Translation catalogs: extract the strings, merge them into the catalogs, compile.

Two domains (see app/web/i18n.py): `messages`, the English ids of the code and templates, translated
to Chinese (zh); `content`, the Chinese labels that ship with the process (BPMN names, form titles,
choices, help texts), translated to English (en). `flask --app wsgi i18n update` refreshes both;
the translator then fills the empty entries of the .po files and runs it again to compile.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
KEYWORDS = {"_": None, "gettext": None, "N_": None, "lazy_gettext": None}
METHODS = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]


@dataclass(frozen=True)
class Domain:
    name: str
    locale: str  # the language its ids are translated into

    @property
    def po(self) -> Path:
        return TRANSLATIONS / self.locale / "LC_MESSAGES" / f"{self.name}.po"

    @property
    def mo(self) -> Path:
        return self.po.with_suffix(".mo")


MESSAGES = Domain("messages", "zh")
CONTENT = Domain("content", "en")


Location = tuple[str, int | None]


def message_ids() -> Iterator[tuple[str, Location]]:
    """(id, where) of every string the code and templates mark for translation."""
    options = {"app/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map=METHODS, options_map=options, keywords=KEYWORDS
    ):
        if isinstance(message, str) and message:
            yield message, (filename, lineno)


def content_ids() -> Iterator[tuple[str, Location]]:
    """(label, where) of every Chinese label of the shipped diagram and forms."""
    for path in sorted((ROOT / "forms").glob("*.json")):
        labels = _json_labels(json.loads(path.read_text(encoding="utf-8")))
        yield from ((text, (f"forms/{path.name}", None)) for text in labels)
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        for element in tree.iter():
            if isinstance(element.tag, str) and element.get("name"):
                yield element.get("name"), (f"processes/{path.name}", None)


def _json_labels(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("title", "ui:help", "ui:placeholder", "submitText") and isinstance(value, str):
                yield value
            elif key == "enumNames" and isinstance(value, list):
                yield from (item for item in value if isinstance(item, str))
            else:
                yield from _json_labels(value)
    elif isinstance(node, list):
        for item in node:
            yield from _json_labels(item)


def template(domain: Domain) -> Catalog:
    catalog = Catalog(domain=domain.name)
    found = message_ids() if domain is MESSAGES else content_ids()
    for text, where in found:
        if _wants_translation(domain, text):
            catalog.add(text, locations=[where])
    return catalog


def _wants_translation(domain: Domain, text: str) -> bool:
    if domain is CONTENT:  # only Chinese labels need an English version
        return any("\u4e00" <= char <= "\u9fff" for char in text)
    return True


def update(domain: Domain) -> Catalog:
    """Merge the freshly extracted ids into the domain's .po (keeping translations), then compile."""
    fresh = template(domain)
    if domain.po.exists():
        with domain.po.open("rb") as handle:
            catalog = read_po(handle, locale=domain.locale, domain=domain.name)
        catalog.update(fresh, update_header_comment=False, no_fuzzy_matching=True)
        catalog.obsolete.clear()
    else:
        catalog = Catalog(locale=domain.locale, domain=domain.name, project="bss-incident", fuzzy=False)
        catalog.update(fresh, no_fuzzy_matching=True)
    domain.po.parent.mkdir(parents=True, exist_ok=True)
    with domain.po.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, sort_output=True)
    compile_catalog(domain)
    return catalog


def compile_catalog(domain: Domain) -> None:
    with domain.mo.open("wb") as handle:
        write_mo(handle, _read(domain))


def _read(domain: Domain) -> Catalog:
    with domain.po.open("rb") as handle:
        return read_po(handle, locale=domain.locale, domain=domain.name)


def untranslated(domain: Domain) -> list[str]:
    catalog = _read(domain)
    return sorted(message.id for message in catalog if message.id and not message.string)
