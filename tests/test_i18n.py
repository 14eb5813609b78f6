"""The translation catalogs are complete, compiled, and in step with the code."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from app import i18n_catalogs
from app.i18n_catalogs import CONTENT, MESSAGES

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.mark.parametrize("domain", [MESSAGES, CONTENT], ids=["messages-zh", "content-en"])
def test_catalog_is_complete_compiled_and_current(domain):
    with domain.po.open("rb") as handle:
        catalog = read_po(handle)
    ids = {message.id for message in catalog if message.id}
    extracted = {message.id for message in i18n_catalogs.template(domain) if message.id}
    assert extracted <= ids, f"run `flask --app wsgi i18n update`: new strings {sorted(extracted - ids)[:5]}"
    assert i18n_catalogs.untranslated(domain) == []
    for message in catalog:
        if message.id:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), message.id
    assert domain.mo.read_bytes() == i18n_catalogs.compiled_bytes(domain), "run `flask --app wsgi i18n update`"
