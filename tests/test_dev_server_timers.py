"""`flask run` drives the timers itself; other commands and the tests do not start a sweeper."""

import click
from flask import Flask

from app import _serving_in_development


def test_only_the_run_command_starts_the_in_process_sweeper(monkeypatch):
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    app = Flask(__name__)
    for command, expected in (("run", True), ("demo", False), ("timers", False)):
        with click.Context(click.Command(command), info_name=command).scope():
            assert _serving_in_development(app) is expected, command
    assert _serving_in_development(app) is False  # no command at all (a WSGI server)
    app.testing = True
    with click.Context(click.Command("run"), info_name="run").scope():
        assert _serving_in_development(app) is False
