"""The cells every list draws on each of its rows (a level, a deadline, a link to an incident), as
Python functions returning markup: one call from a template per cell instead of a macro that calls
back into Python for each label, time and URL. On a 50-row inbox or the console's 100 rows those
calls were most of the page's time (docs/bench.md, "Pages at scale"). The macros of the same name in
macros/ui.html call these, so every page draws the same HTML.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, g, url_for
from markupsafe import Markup, escape

from app.web.i18n import gettext
from app.web.labels import LEVELS, NO_LEVEL, STATUSES, label
from app.web.timefmt import local, registration_left, task_time_left, time_left

SENTINEL = 987654321  # an id no URL rule rewrites: where a row's id goes in the URL built once
PLAIN = re.compile(r"[A-Za-z0-9-]+")  # a task id a URL carries as it is (the engine's are UUIDs)


def _(text: str) -> str:
    """A translation as a template's `_()` gives it: trusted text, not escaped."""
    return gettext(text)


def _prefix(endpoint: str, **values: Any) -> tuple[str, str]:
    """The URL of `endpoint` around its incident id, built once per request (url_for builds each time)."""
    cache = g.setdefault("_url_parts", {})
    key = (endpoint, *values)
    if key not in cache:
        before, after = url_for(endpoint, incident_id=SENTINEL, **values).split(str(SENTINEL), 1)
        cache[key] = (before, after)
    return cache[key]


def incident_url(incident_id: int) -> str:
    before, after = _prefix("incidents.detail")
    return f"{before}{int(incident_id)}{after}"


def task_url(incident_id: int, task_id: str, endpoint: str = "inbox.task") -> str:
    """A task's page (or its claim action): the incident's id and the task's in the URL."""
    if not PLAIN.fullmatch(task_id):
        return url_for(endpoint, incident_id=incident_id, task_id=task_id)
    before, after = _prefix(endpoint, task_id="SENTINELTASK")
    return f"{before}{int(incident_id)}{after}".replace("SENTINELTASK", task_id, 1)


# Markup is built with f-strings around markupsafe's `escape` (in C): `Markup % values` costs several
# times more, and a cell is drawn a hundred times per page. Every value from the database is escaped.


def incident_link(incident: Any) -> Markup:
    return Markup(f'<a href="{incident_url(incident.id)}">{escape(incident.number)}</a>')


def level_badge(level: str | None) -> Markup:
    if level:
        return Markup(f'<span class="badge level-{escape(level)}">{escape(label(LEVELS, level))}</span>')
    return Markup(f'<span class="muted">{_(NO_LEVEL)}</span>')


def status_badge(status: str | None) -> Markup:
    return Markup(f'<span class="badge status-{escape(status)}">{escape(label(STATUSES, status))}</span>')


def emergency_badge(incident: Any) -> Markup:
    if not incident.emergency:
        return Markup("")
    text = _("Emergency")
    return Markup(f'<span class="badge emergency" title="{text}">{text}</span>')


def _span(state: str, title: str, moment: Any, text: Markup) -> Markup:
    when = escape(local(moment))
    return Markup(f'<span class="deadline deadline-{escape(state)}" title="{title} {when}">{text}</span>')


def deadline(incident: Any) -> Markup:
    """The clock of an incident in a few words: time left while it is handled, the wait for
    registration while it is new, and once resolved whether it was in time (not a bare date)."""
    if incident.status == "new":
        left = registration_left(incident)
        waiting = _("To register")  # outside the f-string, where pybabel's extraction finds it
        return _span(left.state, _("Raised"), incident.created_at, Markup(f"{waiting} · {escape(left.text)}"))
    if incident.status == "open" and incident.due_at:
        left = time_left(incident.due_at, incident.warn_at)
        return _span(left.state, _("Deadline"), incident.due_at, escape(left.text))
    if incident.resolved_in_time is not None:
        state, text = ("on_track", _("Resolved in time")) if incident.resolved_in_time else \
            ("breached", _("Resolved late"))  # fmt: skip
        return _span(state, _("Deadline"), incident.due_at, Markup(text))
    return Markup('<span class="muted">—</span>')


def own_time_left(task: Any) -> Markup:
    left = task_time_left(task.created_at, task.due_at)
    return _span(left.state, _("Time limit of this task"), task.due_at, escape(left.text))


def task_deadline(task: Any) -> Markup:
    """A task's own time limit (a timer on the task, such as the fault-notification window) when it
    has one, else its incident's deadline."""
    if task.has_own_time_limit and task.incident.status != "new":
        limit = _("Time limit of this task")
        return Markup(f'{own_time_left(task)}<div class="muted">{limit}</div>')
    return deadline(task.incident)


CELLS = (incident_url, task_url, incident_link, level_badge, status_badge, emergency_badge, deadline, own_time_left,
         task_deadline)  # fmt: skip


def init(app: Flask) -> None:
    app.jinja_env.globals.update({f"cell_{cell.__name__}": cell for cell in CELLS})
