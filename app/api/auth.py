"""Who is calling: each API request carries `Authorization: Bearer <token>` and acts as the token's
account, with that account's roles (the same permission checks as the web app) narrowed by the
token's scopes. The browser's session is never read here, so no page can be made to call the API.
Each token is rate limited (Flask-Limiter, `API_RATE_LIMIT`, in memory by default: docs/api.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_limiter import Limiter

from app.api import problems, schemas, tokens
from app.api.blueprint import answers, bp, spec
from app.api.models import ApiToken
from app.models import utcnow
from app.users import actor_of

PUBLIC = {"api.openapi", "api.docs"}  # the contract and its page need no token


def _token_key() -> str:
    """The limiter's key: the token (hashed; it is never kept), else the client's address."""
    secret = _bearer()
    if secret:
        return "token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "address:" + (request.remote_addr or "")


limiter = Limiter(_token_key, headers_enabled=True)
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"])(bp)


def init(app: Flask) -> None:
    limiter.init_app(app)  # API_RATE_LIMIT and RATELIMIT_STORAGE_URI: app/config.py


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _space, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC or request.endpoint is None:
        return
    secret = _bearer()
    if secret is None:
        raise _unauthorized(_("Send an API token: Authorization: Bearer <token>."))
    from app.web import database

    now = utcnow()
    with database().read() as session:  # written only when its last use is a minute old: no transaction per call
        token = tokens.authenticate(session, secret, now)
    if token is None:
        raise _unauthorized(_("The token is unknown, revoked, or its account is disabled."))
    if tokens.last_used_stale(token, now):
        with database().transaction() as session:
            tokens.used(session, token.id, now)
    g.user, g.api_token_id, g.api_scopes = token.user, token.id, token.scope_set
    g.actor = actor_of(token.user)


def _unauthorized(detail: str) -> problems.ApiProblem:
    return problems.ApiProblem(
        401, _("Authentication required"), detail, headers={"WWW-Authenticate": 'Bearer realm="api"'}
    )


def requires(scope: str, roles: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The token must have been given `scope` (and its account one of `roles`, where the action is a
    role's whatever the body says), checked before the body is read; the rest is the service's to say."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if scope not in g.api_scopes:
                detail = _("This token does not have the scope %(scope)s.", scope=scope)
                raise problems.ApiProblem(403, _("Not allowed"), detail, type_=problems.REFUSED)
            if roles:
                roles_required(*roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def roles_required(*roles: str) -> None:
    """The same role gate as the web page the call stands for (`app.web.security.roles_required`)."""
    if not g.user.roles & set(roles):
        raise problems.ApiProblem(
            403, _("Not allowed"), _("You do not have the role needed for this page or action."), type_=problems.REFUSED
        )


@bp.get("/token")
@spec.validate(resp=answers(HTTP_200=schemas.TokenOut), tags=("tokens",))
def this_token():
    """The token this call is made with (any scope): its name, scopes, last use, and the account it
    acts as with that account's roles — to check a token before using it."""
    from app.web import database

    with database().read() as session:
        token = session.get(ApiToken, g.api_token_id)
        return schemas.TokenOut(
            name=token.name,
            prefix=token.prefix,
            scopes=sorted(token.scope_set, key=tokens.SCOPES.index),
            created_at=token.created_at,
            created_by=token.created_by,
            last_used_at=token.last_used_at,
            username=token.user.username,
            display_name=token.user.display_name,
            roles=sorted(token.user.roles),
        )
