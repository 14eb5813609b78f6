"""The API's blueprint and its OpenAPI contract (spectree: OpenAPI 3.1 from pydantic models, with
request validation; docs/api.md says why)."""

from __future__ import annotations

import copy
import logging
from typing import Any

from flask import Blueprint
from flask_babel import gettext as _
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from werkzeug.exceptions import HTTPException

from app.api import problems
from app.api.schemas import Problem
from app.incidents.service import ServiceError
from app.web.inputs import UnacceptableInput

log = logging.getLogger(__name__)

URL_PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=URL_PREFIX)
BEARER = "bearer"


def answers(*errors: int, **bodies: Any) -> Response:
    """What a route answers, for its contract: its success bodies (`HTTP_200=Model`) and, for each
    error code, a problem+json body (RFC 9457)."""
    return Response(**bodies, **{f"HTTP_{code}": Problem for code in errors})


def _refuse_invalid(_request, _response, error, _instance, _adapter) -> None:
    """A request that does not fit its model is a 422 problem listing each field (never spectree's own body)."""
    if error is None:
        return
    fields = {}
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or ""
        fields.setdefault(where, item.get("msg", "invalid"))
    raise problems.invalid(fields)


spec = SpecTree(
    "flask",
    mode="strict",  # only the routes declared here; the web pages are not part of the contract
    title="事件管理 API",
    version="1",
    description="The incident-management API (docs/api.md). Authenticate with `Authorization: Bearer <token>`.",
    page_templates={},  # the browsable page is ours (vendored Swagger UI, no CDN): app/api/docs.py
    security_schemes=[SecurityScheme(name=BEARER, data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={BEARER: []},
    before=_refuse_invalid,
    validation_error_status=422,
    validation_error_model=Problem,
)


# Answers any call may get, whatever the operation: refused input (control characters, depth: app/web/
# inputs.py), no valid token, too many calls.
EVERYWHERE = {"400": "Bad Request", "401": "Unauthorized", "429": "Too Many Requests"}


def openapi_document() -> dict[str, Any]:
    """The generated document, with errors declared as application/problem+json (spectree writes JSON)
    and the answers every operation may give."""
    document = copy.deepcopy(spec.spec)
    problem = next(name for name in document["components"]["schemas"] if name.startswith("Problem"))
    content = {problems.MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{problem}"}}}
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, answer in responses.items():
                if code[:1] in "45":
                    answer["content"] = content
            for code, description in EVERYWHERE.items():
                responses.setdefault(code, {"description": description, "content": content})
    return document


# ------------------------------------------------------------------ every error of the blueprint as a problem


@bp.errorhandler(problems.ApiProblem)
def _problem(error: problems.ApiProblem):
    return problems.response(error)


@bp.errorhandler(ServiceError)
def _refused(error: ServiceError):
    return problems.response(problems.from_service(error))


@bp.errorhandler(UnacceptableInput)  # by class, so it wins over the app's HTML/JSON answer for it
@bp.errorhandler(HTTPException)
def _http(error: HTTPException):
    return problems.response(problems.from_http(error))


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    log.exception("unexpected error in the API")
    detail = _("An unexpected error occurred. Nothing was saved. Please try again.")
    return problems.response(problems.ApiProblem(500, _("Something went wrong"), detail))
