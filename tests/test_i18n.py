"""The translation catalogs are complete, and the compiled catalogs the app loads say what the .po files say.

The .mo files are committed (the app needs no build step) and compared by what they translate, not byte for
byte: another Babel release lays out the same catalog differently (docs/dependencies.md).
"""

from __future__ import annotations

import ast
import re

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from app import i18n_catalogs
from app.i18n_catalogs import CONTENT, KEYWORDS, MESSAGES, ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def po_catalog(domain):
    with domain.po.open("rb") as handle:
        return read_po(handle, locale=domain.locale, domain=domain.name)


@pytest.mark.parametrize("domain", [MESSAGES, CONTENT], ids=["messages-zh", "content-en"])
def test_every_string_is_translated_with_its_placeholders(domain):
    catalog = po_catalog(domain)
    ids = {message.id for message in catalog if message.id}
    extracted = {message.id for message in i18n_catalogs.template(domain) if message.id}
    assert extracted <= ids, f"run `flask --app wsgi i18n update`: new strings {sorted(extracted - ids)[:5]}"
    assert i18n_catalogs.untranslated(domain) == []
    for message in catalog:
        if message.id:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), message.id


@pytest.mark.parametrize("domain", [MESSAGES, CONTENT], ids=["messages-zh", "content-en"])
def test_the_compiled_catalog_gives_the_po_translations(domain):
    with domain.mo.open("rb") as handle:  # loaded as Flask-Babel loads it
        compiled = Translations(handle, domain=domain.name)
    expected = {message.id: message.string for message in po_catalog(domain) if message.id and not message.fuzzy}
    assert expected, "the catalog is empty"
    differing = sorted(text for text, string in expected.items() if compiled.gettext(text) != string)
    assert differing == [], f"run `flask --app wsgi i18n update` to recompile: {differing[:5]}"


def _marked_in_code():
    """(id, where) of every call of a translation keyword with a literal id in the app's Python, as the code reads."""
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in KEYWORDS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}"


def test_every_marked_string_is_extracted():
    # pybabel's extractor skips calls inside f-strings: such a label would show in English whatever the catalog says
    extracted = {text for text, _where in i18n_catalogs.message_ids()}
    missed = [(text, where) for text, where in _marked_in_code() if text and text not in extracted]
    assert missed == [], f"marked but never extracted (a call inside an f-string?): {missed[:5]}"
