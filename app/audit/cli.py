"""`flask --app wsgi audit verify | checkpoint`: the whole check of the audit log from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.audit import audit_key
from app.audit.jobs import check_and_seal
from app.audit.verification import Verification, describe, store, verify
from app.models import utcnow

audit_cli = AppGroup("audit", help="Check and seal the audit log.")


def _checkpoint_dir() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_DIR"])


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check every chain, every row's HMAC and every chain against the last checkpoint; exit 1 on any problem."""
    db = current_app.extensions["db"]
    started = utcnow()
    with db.read() as session:
        result = verify(session, audit_key(session), _checkpoint_dir())
    with db.transaction() as session:
        store(session, result, started, utcnow())
    _report(result)


@audit_cli.command("checkpoint")
def audit_checkpoint() -> None:
    """Check the audit log, then seal every chain that verifies into a signed checkpoint outside the database."""
    result, sealed = check_and_seal(current_app.extensions["db"], _checkpoint_dir())
    click.echo(f"checkpoint {sealed.number} written to {_checkpoint_dir()}: {sealed.sealed_chains} chain(s) moved on")
    _report(result)


def _report(result: Verification) -> None:
    sealed = f", checked against checkpoint {result.checkpoint}" if result.checkpoint else ", no checkpoint yet"
    if result.ok:
        click.echo(f"audit log intact: {result.rows} rows in {result.chains} chains verified{sealed}")
        return
    counted = f"{result.rows} rows in {result.chains} chains{sealed}"
    click.echo(f"audit log BROKEN: {result.problem_count} problem(s) ({counted})")
    for line in describe(result):
        click.echo(f"  {line}")
    sys.exit(1)
