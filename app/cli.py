"""`flask --app wsgi …` commands: database, users, timers, audit, process versions (and rules, demo)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app import audit, db_roles, migrate
from app.audit import Actor
from app.forms import read_form_files
from app.incidents import assignments
from app.models import User, utcnow
from app.process import validation, versions
from app.process.problems import ModelError
from app.rules.cli import rules_cli
from app.users import ROLES, UserError, create_user, update_user

db_cli = AppGroup("db", help="Create or upgrade the database.")
users_cli = AppGroup("users", help="Manage accounts.")
timers_cli = AppGroup("timers", help="Fire due timers.")
process_cli = AppGroup("process", help="Validate and publish process diagrams.")
i18n_cli = AppGroup("i18n", help="Translation catalogs.")

CLI_ACTOR = Actor(None, "command line", frozenset({"admin"}))


def _db():
    return current_app.extensions["db"]


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create the schema, or bring it up to date, and publish the bundled diagram if none is published.

    With DATABASE_OWNER_URL (PostgreSQL) the migrations run as the owner, who then grants the app's role
    (DATABASE_URL's user) its privileges: no UPDATE, DELETE or TRUNCATE on the audit tables.
    """
    config = current_app.config
    app_url, owner_url = config["DATABASE_URL"], config["DATABASE_OWNER_URL"] or config["DATABASE_URL"]
    migrate.upgrade(owner_url, config["AUDIT_HMAC_KEY"].encode())
    app_role = db_roles.role_of(app_url)
    if _db().is_postgresql and app_role != db_roles.role_of(owner_url):
        db_roles.grant_app_role(owner_url, app_role)
        click.echo(f"role {app_role}: SELECT and INSERT only on {', '.join(db_roles.APPEND_ONLY_TABLES)}")
    elif _db().is_postgresql:
        click.echo("warning: the app connects as the schema's owner, who can switch the audit log's triggers off; "
                   "set DATABASE_OWNER_URL and give DATABASE_URL a role of its own (docs/security.md)")  # fmt: skip
    with _db().transaction() as session:
        version = versions.publish_bundled_if_none(session, CLI_ACTOR)
        released = assignments.release_stranded(session, CLI_ACTOR, utcnow())
    click.echo(f"database ready; process {version.process_id} version {version.version}")
    if released:
        click.echo(f"{released} open task(s) of deactivated accounts, or of accounts without the task's role, "
                   "returned to their group's pool")  # fmt: skip


@db_cli.command("grants")
@click.argument("role")
def db_grants(role: str) -> None:
    """Print the SQL that gives ROLE the app's privileges (what `db upgrade` runs with DATABASE_OWNER_URL)."""
    click.echo(db_roles.grants_sql(role))


@users_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeat for several.")
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.password_option(help="At least 8 characters.")
def users_create(username: str, roles: tuple[str, ...], display_name: str | None, password: str) -> None:
    try:
        with _db().transaction() as session:
            user = create_user(session, username, password, roles, display_name,
                               hash_method=current_app.config["PASSWORD_HASH_METHOD"])  # fmt: skip
            audit.append(session, kind="user_created", actor=CLI_ACTOR, at=utcnow(),
                         data={"user": user.username, "roles": sorted(roles)})  # fmt: skip
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {username} ({', '.join(roles)})")


@users_cli.command("list")
def users_list() -> None:
    with _db().read() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "" if user.active else "  (disabled)"
            click.echo(f"{user.username:<16} {','.join(sorted(user.roles)):<40} {user.display_name}{state}")


@users_cli.command("set")
@click.argument("username")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), help="The new roles (repeat); omit to keep.")
@click.option("--name", "display_name", help="A new display name.")
@click.option("--active/--disabled", default=None, help="Enable or disable the account.")
def users_set(username: str, roles: tuple[str, ...], display_name: str | None, active: bool | None) -> None:
    """Change an account's roles, display name or active flag (audited)."""
    try:
        with _db().transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise UserError(f"there is no user '{username}'")
            changes = update_user(
                session,
                user,
                display_name=display_name or user.display_name,
                roles=roles or tuple(user.roles),
                active=user.active if active is None else active,
            )
            released = 0
            if changes:
                audit.append(session, kind="user_updated", actor=CLI_ACTOR, at=utcnow(),
                             data={"user": user.username, "changes": changes})  # fmt: skip
                released = assignments.release_for_account(session, user, CLI_ACTOR, utcnow())
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"updated {username}: {', '.join(changes) or 'nothing changed'}")
    if released:
        click.echo(f"{released} open task(s) returned to their group's pool")


@timers_cli.command("run")
@click.option("--once", is_flag=True, help="Fire what is due now and exit.")
@click.option("--interval", default=15.0, show_default=True, help="Seconds between sweeps.")
def timers_run(once: bool, interval: float) -> None:
    """Run the timer worker (several may run at once)."""
    service = current_app.extensions["incidents"]
    if once:
        click.echo(f"fired timers of {service.fire_due_timers()} incident(s)")
        return
    from app import periodic_jobs
    from app.timers import sweep_forever

    click.echo(f"timer worker sweeping every {interval:g} s; Ctrl+C to stop")
    sweep_forever(service, interval, jobs=periodic_jobs(current_app))


def _read_diagram(path: str) -> tuple[str, dict[str, str]]:
    """The diagram and the forms beside it (a forms/ folder next to processes/, or next to the file)."""
    file = Path(path)
    for forms_dir in (file.parent.parent / "forms", file.parent / "forms"):
        if forms_dir.is_dir():
            return file.read_text(encoding="utf-8"), read_form_files(forms_dir)
    return file.read_text(encoding="utf-8"), read_form_files()


@process_cli.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def process_validate(file: str) -> None:
    """Print every problem of a diagram; exit status 1 if there is any."""
    bpmn, forms = _read_diagram(file)
    problems = validation.validate(bpmn, forms)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo("no problems")


@process_cli.command("dryrun")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def process_dryrun(file: str) -> None:
    """Run a diagram in memory on the sample incidents (app/process/dryrun.py); exit status 1 if a path gets stuck."""
    from app.process import dryrun

    bpmn, forms = _read_diagram(file)
    try:
        outcomes = dryrun.for_document(bpmn, forms)
    except ModelError as error:
        for problem in error.problems:
            click.echo(str(problem))
        sys.exit(1)
    for outcome in outcomes:
        if outcome.reached:
            click.echo(f"ok     {outcome.story.key}: {' → '.join(outcome.path)}")
        else:
            click.echo(f"STUCK  {outcome.story.key} at {outcome.stuck_at or '—'}: {outcome.reason}")
            click.echo(f"       path: {' → '.join(outcome.path) or '—'}; waiting: {', '.join(outcome.waiting) or '—'}")
    if not all(outcome.reached for outcome in outcomes):
        sys.exit(1)


@process_cli.command("migrate")
@click.argument("number", type=int)
@click.option("--incident", "incidents", type=int, multiple=True, help="Move this incident (its number's digits).")
@click.option("--all", "move_all", is_flag=True, help="Move every running incident that can move.")
def process_migrate(number: int, incidents: tuple[int, ...], move_all: bool) -> None:
    """Preview moving running incidents to version NUMBER of the incident process; --incident or --all moves them."""
    from app.incidents.moves import VersionMoves
    from app.incidents.service import ServiceError
    from app.models import ProcessVersion
    from app.process.contract import PROCESS_ID

    with _db().read() as session:
        target = session.scalar(
            select(ProcessVersion).where(ProcessVersion.process_id == PROCESS_ID, ProcessVersion.version == number)
        )
    if target is None:
        click.echo(f"there is no version {number} of {PROCESS_ID}")
        sys.exit(1)
    moves = VersionMoves(current_app.extensions["incidents"])
    actor = Actor(None, CLI_ACTOR.name, frozenset({"process_owner"}))
    candidates = moves.candidates(target.id)
    chosen = {candidate.incident_id for candidate in candidates} if move_all else set(incidents)
    failed = False
    for candidate in candidates:
        preview = candidate.preview
        state = "can move" if preview.can_move else f"cannot move: {preview.reason}"
        tasks = f"added {preview.added or '-'}, removed {preview.removed or '-'}, kept {preview.unchanged or '-'}"
        click.echo(f"INC{candidate.incident_id:06d} (version {candidate.version}) {state}; {tasks}")
        if candidate.incident_id in chosen and preview.can_move:
            try:
                moves.migrate(actor, candidate.incident_id, target.id)
                click.echo("    moved")
            except ServiceError as error:
                click.echo(f"    not moved: {error}")
                failed = True
        elif candidate.incident_id in chosen:
            failed = True
    if failed:
        sys.exit(1)


@process_cli.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--comment", default="", help="What changed.")
def process_publish(file: str, comment: str) -> None:
    """Validate and publish a diagram as a new version."""
    bpmn, forms = _read_diagram(file)
    try:
        with _db().transaction() as session:
            version, created = versions.publish(session, bpmn, forms, CLI_ACTOR, comment)
    except ModelError as error:
        for problem in error.problems:
            click.echo(str(problem))
        sys.exit(1)
    state = "published" if created else "unchanged, already published as"
    click.echo(f"{state} {version.process_id} version {version.version} ({version.content_hash[:12]})")


@i18n_cli.command("update")
def i18n_update() -> None:
    """Extract the strings, merge them into the catalogs (keeping translations) and compile."""
    from app import i18n_catalogs

    for domain in (i18n_catalogs.MESSAGES, i18n_catalogs.CONTENT):
        catalog = i18n_catalogs.update(domain)
        missing = len(i18n_catalogs.untranslated(domain))
        click.echo(f"{domain.po.relative_to(i18n_catalogs.ROOT)}: {len(catalog)} strings, {missing} untranslated")


def register(app: Flask) -> None:
    from app.audit.cli import audit_cli
    from app.demo import demo_cli
    from app.notifications.cli import notify_cli
    from app.reports.cli import reports_cli

    groups = (db_cli, users_cli, timers_cli, audit_cli, process_cli, rules_cli, demo_cli, i18n_cli, notify_cli,
              reports_cli)  # fmt: skip
    for group in groups:
        app.cli.add_command(group)
