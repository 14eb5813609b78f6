"""Incident management (事件管理流程) for a telecom BSS operations team.

`create_app` is the Flask application factory; the engine, the rules and the incident service
underneath it do not depend on Flask.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask

from app import config as app_config
from app import observability
from app.alarms.service import AlarmService
from app.db import Database
from app.engine.operations import Settings
from app.incidents.service import IncidentService
from app.notifications import worker as notifier
from app.reports import keeping as _report_keeping  # noqa: F401 — keeps the report counters with every action
from app.reports import rollup as _report_rollup  # noqa: F401 — keeps the report roll-ups from every audit row
from app.search import index as _search_index  # noqa: F401 — feeds the search index from every audit row


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(app_config.load(Path(app.instance_path), overrides))

    db = Database(app.config["DATABASE_URL"], audit_key=app.config["AUDIT_HMAC_KEY"].encode())
    settings = Settings(
        warning_ratio=float(app.config["WARNING_RATIO"]),
        notification_window_minutes=float(app.config["NOTIFICATION_WINDOW_MINUTES"]),
        registration_target_minutes=float(app.config["REGISTRATION_TARGET_MINUTES"]),
        confirmation_working_days=int(app.config["CONFIRMATION_WORKING_DAYS"]),
        timezone=app.config["TIMEZONE"],
    )
    app.extensions["db"] = db
    app.extensions["incidents"] = IncidentService(db, settings=settings)
    app.extensions["notifier"] = notifier.build(db, app.config, Path(app.instance_path))
    app.extensions["alarms"] = AlarmService(
        app.extensions["incidents"],
        storm_window=timedelta(minutes=float(app.config["ALARM_STORM_WINDOW_MINUTES"])),
        recovery_check=bool(app.config["ALARM_RECOVERY_CHECK"]),
    )

    from app.api import init_api
    from app.cli import register
    from app.web import init_web

    register(app)
    observability.init(app)
    init_web(app)
    init_api(app)
    if _serving_in_development(app):
        from app.observability.heartbeats import Heartbeat
        from app.timers import start_in_process

        start_in_process(app.extensions["incidents"], app.config["TIMER_INTERVAL_SECONDS"], periodic_jobs(app))
        notifier.start_in_process(app.extensions["notifier"], app.config["NOTIFY_INTERVAL_SECONDS"],
                                  [Heartbeat(app.extensions["db"], "notify")])  # fmt: skip
    return app


def periodic_jobs(app: Flask) -> list:
    """What the timer worker (or the development server's sweeper) runs after each sweep."""
    from app.audit.jobs import PeriodicCheck
    from app.observability.heartbeats import Heartbeat
    from app.reports.stored_repeats import ComputeRequested
    from app.search.similar import fold
    from app.tallies.service import PeriodicTally

    db, checkpoints = app.extensions["db"], Path(app.config["AUDIT_CHECKPOINT_DIR"])
    return [
        Heartbeat(db, "timer"),
        PeriodicCheck(db, checkpoints, float(app.config["AUDIT_VERIFY_SECONDS"])),
        ComputeRequested(db, ZoneInfo(app.config["TIMEZONE"])),
        PeriodicTally(db, float(app.config["TALLY_SECONDS"])),
        partial(fold, db),  # the similar incidents' distinct texts (PostgreSQL)
    ]


def _serving_in_development(app: Flask) -> bool:
    """`flask run` (in the reloader's child, if any): the development server drives the timers and
    delivers notifications itself."""
    command = click.get_current_context(silent=True)
    running = command is not None and command.info_name == "run"
    reloader_parent = app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    return running and not reloader_parent and not app.testing
