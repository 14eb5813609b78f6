"""What every request may carry, checked once for all views before any of them runs (docs/security.md):
no control characters (NUL and the other C0 controls; tab, CR and LF only in form fields and JSON
strings, where text may span lines), no lone UTF-16 surrogates, JSON at most MAX_JSON_DEPTH deep,
and ids that fit the database's INTEGER columns. A request that breaks one gets a 400 saying which
rule it broke; nothing of it reaches a view, the engine or the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

MAX_ID = 2**31 - 1  # ids are 32-bit integers: a larger number names nothing (PostgreSQL would refuse it)
MAX_JSON_DEPTH = 32
MAX_CONTENT_LENGTH = 1_000_000  # any request body; the diagram upload and save allow more (app/process/web.py)

ONE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # paths, query strings, field names, ids
TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # form values and JSON strings


class UnacceptableInput(BadRequest):
    """A request refused before any view saw it; `description` says why, for the user."""


def init(app: Flask) -> None:
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.before_request(check_request)
    app.register_error_handler(UnacceptableInput, _refused)


def check_request() -> None:
    if request.endpoint == "static":
        return
    _check([request.path, *(part for pair in request.args.items(multi=True) for part in pair)], ONE_LINE)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json:
        _check_json()
    else:
        files = (file.filename or "" for _name, file in request.files.items(multi=True))
        _check([*request.form.keys(), *request.files.keys(), *files], ONE_LINE)
        _check((value for _name, value in request.form.items(multi=True)), TEXT)


def _check(values: Iterable[str], pattern: re.Pattern[str]) -> None:
    for value in values:
        if pattern.search(value):
            raise UnacceptableInput(
                _(
                    "The request contains a control character (such as a NUL byte) or an invalid character, "
                    "which cannot be stored. Remove it and try again."
                )
            )


def _check_json() -> None:
    try:
        document = request.get_json(silent=True)
    except RecursionError:  # Python's parser gives up on very deep documents
        document = _TOO_DEEP
    if document is _TOO_DEEP or _too_deep(document):
        raise UnacceptableInput(_("The data is nested too deeply (at most %(depth)s levels).", depth=MAX_JSON_DEPTH))
    _check(_json_strings(document), TEXT)


_TOO_DEEP = object()


def _too_deep(document: Any) -> bool:
    """Deeper than MAX_JSON_DEPTH (walked without recursion)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def _json_strings(document: Any) -> Iterable[str]:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from value.keys()
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _refused(error: UnacceptableInput):
    api_answer = current_app.extensions.get("api_problem")  # app/api answers in problem+json
    if api_answer is not None and (answer := api_answer(error)) is not None:
        return answer
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(ok=False, error=error.description), 400
    return render_template("errors/error.html", title=_("The request could not be processed"),
                           message=error.description), 400  # fmt: skip


def id_value(text: str | None) -> int | None:
    """An id as typed or posted ("12"), or None when it cannot name a row: not plain digits, 0, too large."""
    digits = (text or "").strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(MAX_ID)):
        return None
    number = int(digits)
    return number if 0 < number <= MAX_ID else None


def form_id(name: str) -> int | None:
    return id_value(request.form.get(name))


def arg_id(name: str) -> int | None:
    return id_value(request.args.get(name))
