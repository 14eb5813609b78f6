"""The web application: one blueprint per area, templates grouped by blueprint."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import Flask, current_app, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from app.db import Database
from app.engine.lanes import REGISTRARS
from app.incidents.service import IncidentService, NotFound, PermissionDenied, ServiceError
from app.web import cells, i18n, inputs, labels, security, timefmt
from app.web.i18n import gettext as _
from app.web.i18n import translate

log = logging.getLogger(__name__)

EXACT = {"incidents.new"}  # menu entries that are one page of a blueprint another entry stands for
HANDLERS = ("service_desk", "first_line", "second_line_dev", "second_line_test", "second_line_is", "incident_manager")


class IdConverter(IntegerConverter):
    """`<int:…>` in this app: an id the database can hold, so an absurd one is a 404, not a crash."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, **{"max": inputs.MAX_ID, **kwargs})


def init_web(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    i18n.init(app)
    inputs.init(app)  # before anything reads the request
    security.init(app)
    timefmt.init(app)
    labels.init(app)
    cells.init(app)
    from app.attachments import web as attachments
    from app.bulk import web as bulk
    from app.comments import web as comments
    from app.imports import web as imports
    from app.links import web as links
    from app.live import web as live
    from app.notifications import web as notifications
    from app.problems import web as problems
    from app.process import web as process
    from app.process import web_migration, web_modeler, web_review  # noqa: F401 — their routes are on the process blueprint
    from app.search import web as search
    from app.web import (
        admin,
        audit,
        auth,
        home,
        inbox,
        incidents,
        manager,
        overview,
        portal,
        reading,
        reports,
    )

    reading.init(app)
    attachments.init(app)
    links.init(app)
    search.init(app)
    live.init(app)

    areas = (home, auth, inbox, incidents, comments, attachments, portal, manager, problems, overview, reports, audit)
    for module in (*areas, process, imports, links, search, live, bulk, admin):
        app.register_blueprint(module.bp)
    app.register_blueprint(notifications.bp)
    app.jinja_env.globals["navigation"] = navigation
    app.jinja_env.filters["fromjson"] = json.loads
    _error_pages(app)


def database() -> Database:
    return current_app.extensions["db"]


def incident_service() -> IncidentService:
    return current_app.extensions["incidents"]


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool
    count: int = 0


def navigation() -> list[NavItem]:
    """The areas the signed-in user may open, in working order."""
    from app.live.service import top_bar
    from app.web.security import has_role

    items = []
    endpoint = request.endpoint or ""

    def add(label: str, endpoint_name: str, *roles: str, count: int = 0) -> None:
        if has_role(*roles):
            blueprint = endpoint_name.split(".")[0]
            same_area = endpoint.startswith(blueprint + ".") and endpoint_name not in EXACT and endpoint not in EXACT
            active = endpoint == endpoint_name or same_area
            items.append(NavItem(label, url_for(endpoint_name), active, count))

    handler = has_role(*HANDLERS)
    with database().read() as session:  # counted only when a page draws the menu; the bell's count with it
        count, g.unread_notifications = top_bar(session, g.actor, with_badge=handler)
    if handler:
        add(_("My tasks"), "inbox.index", *HANDLERS, count=count)
    add(_("Register"), "incidents.new", *REGISTRARS)
    add(_("Import tickets"), "imports.index", "service_desk")
    add(_("Incidents"), "incidents.index", *HANDLERS, "leadership", "auditor")
    add(_("Search"), "search.index", *HANDLERS, "leadership", "auditor")
    add(_("My incidents"), "portal.index", "requester")
    add(_("Incident manager"), "manager.index", "incident_manager")
    add(_("Problem tickets"), "problems.index", "incident_manager", "leadership", "auditor")
    add(_("Overview"), "overview.index", "leadership", "incident_manager")
    add(_("Reports"), "reports.index", "incident_manager", "leadership")
    add(_("Audit"), "audit.index", "auditor")
    add(_("Process"), "process.index", "process_owner")
    add(_("Users"), "admin.users", "admin")
    add(_("Notifications"), "notifications.admin", "admin")
    return items


def _error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        api_answer = current_app.extensions.get("api_problem")  # app/api: its addresses answer in JSON
        if api_answer is not None and (answer := api_answer(error)) is not None:
            return answer
        titles = {
            400: _("The request could not be processed"),
            403: _("Not allowed"),
            404: _("Not found"),
            405: _("Not allowed"),
            413: _("Too large"),
        }
        messages = {
            400: _("The form has expired or was not sent from this site. Reload the page and try again.")
            if error.description == "csrf"
            else _("The request was malformed."),
            403: _("You do not have the role needed for this page or action."),
            404: _("This page does not exist, or you may not see it."),
            405: _("This address does not accept this kind of request."),
            413: _("The request is larger than this page accepts."),
        }
        code = error.code or 500
        title = titles.get(code, _("Something went wrong"))
        message = messages.get(code, _("Please try again later."))
        return render_template("errors/error.html", title=title, message=message), code

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        code = 404 if isinstance(error, NotFound) else 403 if isinstance(error, PermissionDenied) else 409
        title = _("Not allowed") if code == 403 else _("Not found") if code == 404 else _("Could not be done")
        return render_template("errors/error.html", title=title, message=translate(error.message)), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error")  # logged for the operators; the user gets a calm page
        message = _("An unexpected error occurred. Nothing was saved. Please try again.")
        return render_template("errors/error.html", title=_("Something went wrong"), message=message), 500
