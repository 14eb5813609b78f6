"""Reading a CSV of tickets as registrations: one row, one incident registered by the service desk.

The columns are the registration form's own fields, named by their title as the form shows it
(事件标题, 事件类型, xxxIT平台工单号…) or by their path (incident.title, facts.type); a choice is
given by its name or its code, a yes/no as 是/否, a time in local time. Each row is read the way the
web form reads a submission and checked against the form's JSON Schema, so a row is accepted exactly
when the registration form would accept it. A row whose platform ticket is already imported, or
repeated in the file, is refused. Nothing is read from or written to disk; the file is read in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app import forms
from app.messages import N_, Message
from app.models import Incident
from app.web.formrender import read_submission

MAX_ROWS = 1000
TICKET = "incident.ops_ticket"
YES = {"是", "true", "1", "yes", "y", "on"}
NO = {"否", "false", "0", "no", "n", "off"}
ENCODINGS = ("utf-8-sig", "gb18030")  # Excel in a Chinese locale saves CSV as GB18030/GBK


@dataclass(frozen=True)
class Column:
    path: str  # "incident.title"
    title: str  # the form's label: 事件标题
    prop: Mapping[str, Any]
    required: bool


@dataclass
class Row:
    line: int  # in the file, the header being line 1
    data: dict[str, Any]  # the registration form's answers
    errors: list[tuple[str, Message | str]] = field(default_factory=list)  # (column title, reason)

    def cell(self, path: str) -> Any:
        variable, _dot, name = path.partition(".")
        return (self.data.get(variable) or {}).get(name)


@dataclass
class Reading:
    rows: list[Row]
    problems: list[Message] = field(default_factory=list)  # the file's own (encoding, header, size)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems and not any(row.errors for row in self.rows)


def columns(schema: Mapping[str, Any]) -> list[Column]:
    """The registration form's fields, in the form's order."""
    found = []
    for variable, group in (schema.get("properties") or {}).items():
        required = set(group.get("required") or [])
        for name, prop in (group.get("properties") or {}).items():
            found.append(Column(f"{variable}.{name}", prop.get("title") or name, prop, name in required))
    return found


def template(schema: Mapping[str, Any]) -> str:
    """An empty CSV with the form's column titles (UTF-8 with a BOM, so Excel opens it right)."""
    out = io.StringIO()
    csv.writer(out).writerow([column.title for column in columns(schema)])
    return "\ufeff" + out.getvalue()


def decode(raw: bytes) -> str | None:
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read(text: str, schema: Mapping[str, Any], known_tickets: set[str]) -> Reading:
    """Every row as the registration form's answers, with what is wrong with each."""
    by_name = {key: column for column in columns(schema) for key in (column.path, column.title)}
    lines = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(lines, None)
    if not header or not any(cell.strip() for cell in header):
        return Reading([], [Message(N_("The file is empty: the first line names the columns."))])
    unknown = [name for name in header if name.strip() and name.strip() not in by_name]
    if unknown:
        return Reading([], [Message(N_("Unknown columns: %(names)s."), {"names": "、".join(unknown)})])
    chosen = [by_name.get(name.strip()) for name in header]
    rows, seen = [], {}
    for number, cells in _numbered(lines):
        if len(rows) >= MAX_ROWS:
            return Reading(rows, [Message(N_("At most %(count)s rows at once."), {"count": MAX_ROWS})])
        row = Row(number, _answers(schema, chosen, cells))
        _check(row, schema, by_name)
        ticket = row.cell(TICKET)
        if ticket:
            if ticket in known_tickets:
                row.errors.append(
                    (by_name[TICKET].title, Message(N_("Already imported: an incident has this ticket.")))
                )
            elif ticket in seen:
                reason = Message(N_("The same ticket as line %(line)s."), {"line": seen[ticket]})
                row.errors.append((by_name[TICKET].title, reason))
            seen.setdefault(ticket, number)
        rows.append(row)
    if not rows:
        return Reading([], [Message(N_("The file has no rows below its header."))])
    return Reading(rows)


def existing_tickets(session, tickets: Sequence[str]) -> set[str]:
    if not tickets:
        return set()
    return set(session.scalars(select(Incident.ops_ticket).where(Incident.ops_ticket.in_(list(tickets)))))


def tickets_in(text: str, schema: Mapping[str, Any]) -> list[str]:
    """The platform tickets a file names (read before the rows, to ask the database once)."""
    reading = read(text, schema, set())
    return [ticket for row in reading.rows if (ticket := row.cell(TICKET))]


def _numbered(lines: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    for index, cells in enumerate(lines, start=2):
        if any(cell.strip() for cell in cells):  # blank lines are no rows
            yield index, cells


def _answers(schema: Mapping[str, Any], chosen: list[Column | None], cells: list[str]) -> dict[str, Any]:
    """The row read as the web form reads a submission (the same types, local times)."""
    submitted = MultiDict()
    for column, cell in zip(chosen, cells, strict=False):
        value = cell.strip()
        if column is not None and value:
            submitted.add(column.path, _code(column.prop, value))
    data = read_submission(schema, submitted)
    data.setdefault("on_spot", {"solved": False})  # imported tickets were not solved at registration
    return {variable: answers for variable, answers in data.items() if answers not in (None, {})}


def _code(prop: Mapping[str, Any], value: str) -> str:
    """A choice by its name (故障) or its code (fault); a yes/no as 是/否."""
    if prop.get("type") == "boolean":
        lowered = value.lower()
        return "true" if lowered in YES else "false" if lowered in NO else value
    names = prop.get("enumNames") or []
    for code, name in zip(prop.get("enum") or [], names, strict=False):
        if value == name:
            return str(code)
    return value


def _check(row: Row, schema: Mapping[str, Any], by_name: Mapping[str, Column]) -> None:
    try:
        row.data = forms.validate(schema, row.data)
    except forms.FormErrors as error:
        for path, message in error.errors.items():
            column = by_name.get(path)
            row.errors.append((column.title if column else path, message))
