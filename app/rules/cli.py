"""`flask --app wsgi rules classify`: JSON Lines of facts in, one classification per line out."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator

import click
from flask.cli import AppGroup

from app.rules.classify import classify
from app.rules.facts import FactsError, parse_facts

# The command's output contract: these keys, in this order.
OUTPUT_FIELDS = ("level", "impact", "urgency", "emergency", "deadline_hours", "escalations", "reasons")


def classify_lines(lines: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """One output line per non-blank input line, and whether it is an error."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield _dump({"error": f"line {number}: invalid JSON: {exc}"}), True
            continue
        try:
            result = classify(parse_facts(data)).to_dict()
        except FactsError as exc:
            yield _dump({"error": f"line {number}: {exc}"}), True
            continue
        yield _dump({key: result[key] for key in OUTPUT_FIELDS}), False


def _dump(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False)


rules_cli = AppGroup("rules", help="Incident classification rules (事件分类规则, appendix 8).")


# No app context: the rules need neither configuration nor database.
@rules_cli.command("classify", with_appcontext=False)
def classify_command() -> None:
    """Read incident facts as JSON Lines on stdin; write one classification per line.

    A line that is not a valid fact object gets {"error": ...}; the exit status is then 1.
    """
    failed = False
    for line, is_error in classify_lines(sys.stdin):
        click.echo(line)
        failed = failed or is_error
    if failed:
        sys.exit(1)
