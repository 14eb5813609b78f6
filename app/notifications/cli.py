"""`flask --app wsgi notify run`: the notification worker (several may run at once)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

notify_cli = AppGroup("notify", help="Deliver notifications.")


@notify_cli.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now and exit.")
@click.option("--interval", type=float, default=None, help="Seconds between idle rounds (NOTIFY_INTERVAL_SECONDS).")
def notify_run(once: bool, interval: float | None) -> None:
    """Run the notification worker."""
    from app.notifications.worker import run_forever
    from app.observability.heartbeats import Heartbeat

    worker = current_app.extensions["notifier"]
    if once:
        click.echo(f"tried {worker.drain()} notification(s)")
        return
    interval = interval or current_app.config["NOTIFY_INTERVAL_SECONDS"]
    channels = "; ".join(channel.describe() for channel in worker.channels.values())
    click.echo(f"notification worker {worker.name}: {channels}; every {interval:g} s when idle; Ctrl+C to stop")
    run_forever(worker, interval, jobs=[Heartbeat(worker.db, "notify")])
