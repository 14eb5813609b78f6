"""A browser-less client: sign in as any role (the `actors` accounts), post forms with their CSRF token."""

from __future__ import annotations

import re

import pytest

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    def __init__(self, flask_client):
        self.http = flask_client
        self.token = None

    def get(self, url, **kwargs):
        response = self.http.get(url, **kwargs)
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, url, data=None, *, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            data.setdefault("csrf_token", self.token)
        return self.http.post(url, data=data, **kwargs)

    def sign_in(self, username, password="password123"):
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.get("/login")  # a fresh token for the new session
        return self


@pytest.fixture
def web(app, service, actors):
    """A signed-out client of the app, with the process published and one account per role."""
    return Client(app.test_client())


@pytest.fixture
def as_role(app, service, actors):
    """as_role("service_desk") → a client signed in as that role's account."""

    def sign_in(role):
        return Client(app.test_client()).sign_in(role)

    return sign_in
