"""API clients: a token per role (made through the token service, as an admin would), and a client
that sends it as `Authorization: Bearer`."""

from __future__ import annotations

import pytest

from app.api import tokens
from app.models import User, utcnow
from tests.web.conftest import as_role  # noqa: F401 — the token pages are web pages


class ApiClient:
    def __init__(self, flask_client, secret: str | None):
        self.http, self.secret = flask_client, secret

    def _headers(self, headers):
        return {**({"Authorization": f"Bearer {self.secret}"} if self.secret else {}), **(headers or {})}

    def get(self, url, headers=None, **kwargs):
        return self.http.get(url, headers=self._headers(headers), **kwargs)

    def post(self, url, json=None, headers=None, **kwargs):
        return self.http.post(url, json=json, headers=self._headers(headers), **kwargs)

    def put(self, url, json=None, headers=None, **kwargs):
        return self.http.put(url, json=json, headers=self._headers(headers), **kwargs)

    def call(self, method, url, json=None):
        return self.http.open(url, method=method, json=json, headers=self._headers(None))


def make_token(db, actors, role: str, scopes=tokens.SCOPES, *, by: str = "admin") -> str:
    with db.transaction() as session:
        user = session.get(User, actors[role].user_id)
        return tokens.create(session, actors[by], user, f"{role} script", list(scopes), utcnow()).secret


@pytest.fixture
def api(app, service, actors, db):
    """api("service_desk") → a client calling the API with a token of that role's account (all scopes)."""

    def client(role: str | None, scopes=tokens.SCOPES):
        secret = make_token(db, actors, role, scopes) if role else None
        return ApiClient(app.test_client(), secret)

    return client
