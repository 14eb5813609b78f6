"""The REST API for machines (/api/v1): token authentication, the OpenAPI 3.1 contract, problem+json
errors, and the token pages. Every call acts as the token's account, through the same incident
service and the same permission and visibility rules as the web app (docs/api.md)."""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    from app.alarms import web as alarm_pages
    from app.api import alarms, auth, docs, incidents, problems, reports, tasks, web  # noqa: F401 — routes on the blueprint
    from app.api.blueprint import bp

    alarm_pages.init(app)
    auth.init(app)
    problems.init(app)
    app.register_blueprint(bp)
    app.register_blueprint(web.bp)
