"""Errors as RFC 9457 problem details (application/problem+json), with the field-level messages the
forms show. Every error under /api/ — refused input, a missing token, a refused action, an unknown
route — answers this way; the web pages keep their HTML error pages."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, json, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.incidents.service import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.messages import N_, Message
from app.web.i18n import translate

MEDIA_TYPE = "application/problem+json"
PREFIX = "/api/"
# Problem types (relative URIs, described in docs/api.md); other errors are plain HTTP ("about:blank").
INVALID_INPUT = "/api/v1/problems/invalid-input"
REFUSED = "/api/v1/problems/refused"
CONFLICT = "/api/v1/problems/conflict"


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str = "about:blank",
        errors: Mapping[str, Message | str] | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        self.status, self.title, self.detail, self.type = status, title, detail, type_
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        super().__init__(title)


def invalid(errors: Mapping[str, Message | str]) -> ApiProblem:
    return ApiProblem(422, _("Please correct the marked fields."), type_=INVALID_INPUT, errors=errors)


def wants_problem() -> bool:
    return request.path.startswith(PREFIX)


def response(problem: ApiProblem) -> Response:
    body = {"type": problem.type, "title": problem.title, "status": problem.status, "instance": request.path}
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = [
            {"field": field, "message": translate(message) if isinstance(message, Message) else message}
            for field, message in problem.errors.items()
        ]
    answer = Response(json.dumps(body), status=problem.status, mimetype=MEDIA_TYPE)
    answer.headers.update(problem.headers)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def from_service(error: ServiceError) -> ApiProblem:
    """A refusal of the incident service, with the same words the web pages show."""
    if isinstance(error, InvalidInput):
        return invalid(error.errors)
    if isinstance(error, NotFound):
        return ApiProblem(404, _("Not found"), translate(error.message))
    if isinstance(error, PermissionDenied):
        return ApiProblem(403, _("Not allowed"), translate(error.message), type_=REFUSED)
    if isinstance(error, Conflict):
        return ApiProblem(409, _("Could not be done"), translate(error.message), type_=CONFLICT)
    return ApiProblem(409, _("Could not be done"), translate(error.message), type_=REFUSED)


TITLES = {
    400: N_("The request could not be processed"),
    401: N_("Authentication required"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    406: N_("Not acceptable"),
    413: N_("Too large"),
    415: N_("Unsupported media type"),
    429: N_("Too many requests"),
}


def from_http(error: HTTPException) -> ApiProblem:
    code = error.code or 500
    headers = {}
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    detail = error.description if isinstance(error.description, str) and code in (400, 413) else None
    return ApiProblem(code, _(TITLES.get(code, N_("Something went wrong"))), detail, headers=headers)


def init(app: Flask) -> None:
    """The API's blueprint answers its own errors (`app.api.blueprint`); the web app's error pages
    hand over the /api/ addresses that no route took (an unknown path, a method not allowed)."""
    app.extensions["api_problem"] = lambda error: response(from_http(error)) if wants_problem() else None
