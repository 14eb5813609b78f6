"""`flask --app wsgi reports rebuild`: write the report roll-ups again from the audit log, and the per-day
counters from the incidents and those roll-ups."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.reports import counters
from app.reports.rollup import rebuild

reports_cli = AppGroup("reports", help="Report roll-ups.")


@reports_cli.command("rebuild")
def reports_rebuild() -> None:
    """Rebuild the roll-ups (after rows were loaded into the audit log past the application, e.g. a bulk fill)."""
    with current_app.extensions["db"].transaction() as session:
        written = rebuild(session)
        counted = counters.rebuild(session)
    click.echo(f"{written} roll-up rows written, {counted} counter rows")
