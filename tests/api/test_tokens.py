"""Tokens: shown once, stored hashed, scoped, revocable, last use recorded; calls act as the account."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.api import tokens
from app.api.models import ApiToken
from app.models import AuditEvent, User
from tests.api.conftest import ApiClient, make_token


def test_a_token_is_stored_hashed_and_acts_as_its_account(api, db, actors):
    client = api("first_line")
    with db.read() as session:
        row = session.scalars(select(ApiToken)).one()
    assert client.secret not in (row.token_hash, row.prefix)
    assert row.token_hash == hashlib.sha256(client.secret.encode()).hexdigest()
    assert row.last_used_at is None

    assert client.get("/api/v1/tasks").status_code == 200
    with db.read() as session:
        row = session.get(ApiToken, row.id)
        assert row.last_used_at is not None
        assert row.user_id == actors["first_line"].user_id


def test_without_a_valid_token_every_call_is_a_401_problem(api):
    for client in (api(None), type(api(None))(api(None).http, "bss_not-a-token")):
        answer = client.get("/api/v1/incidents")
        assert answer.status_code == 401
        assert answer.mimetype == "application/problem+json"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.json["status"] == 401 and answer.json["title"]


def test_a_revoked_token_and_a_disabled_account_no_longer_work(api, db, actors):
    client = api("first_line")
    assert client.get("/api/v1/tasks").status_code == 200
    with db.transaction() as session:
        token = session.scalars(select(ApiToken)).one()
        tokens.revoke(session, actors["first_line"], token.id, token.created_at)
    assert client.get("/api/v1/tasks").status_code == 401

    other = api("second_line_dev")
    with db.transaction() as session:
        session.get(User, actors["second_line_dev"].user_id).active = False
    assert other.get("/api/v1/tasks").status_code == 401


def test_a_scope_the_token_lacks_is_refused(api):
    reader = api("service_desk", scopes=[tokens.READ])
    answer = reader.post("/api/v1/incidents", json={"incident": {"title": "x"}})
    assert answer.status_code == 403
    assert "incidents:write" in answer.json["detail"]
    assert reader.get("/api/v1/incidents").status_code == 200


def test_only_an_admin_creates_tokens_for_another_account(db, actors):
    with db.transaction() as session:
        other = session.get(User, actors["first_line"].user_id)
        try:
            tokens.create(session, actors["requester"], other, "mine", [tokens.READ], other.created_at)
        except tokens.TokenError as error:
            assert error.field == "user"
        else:
            raise AssertionError("a requester created a token for someone else")
    assert make_token(db, actors, "first_line", by="first_line").startswith(tokens.PREFIX)
    with db.read() as session:
        kinds = list(session.scalars(select(AuditEvent.kind)))
    assert kinds == ["api_token_created"]


def test_bad_names_and_scopes_are_refused(db, actors):
    with db.transaction() as session:
        user = session.get(User, actors["first_line"].user_id)
        for name, scopes, field in (("", [tokens.READ], "name"), ("x", [], "scopes"), ("x", ["root"], "scopes")):
            try:
                tokens.create(session, actors["admin"], user, name, scopes, user.created_at)
            except tokens.TokenError as error:
                assert error.field == field
            else:
                raise AssertionError((name, scopes))


def test_calls_are_rate_limited_per_token(app, db, actors):
    """(Real time, not the frozen test clock: the limiter's window moves with the time.)"""
    app.config["API_RATE_LIMIT"] = "3 per minute"
    first, second = (
        ApiClient(app.test_client(), make_token(db, actors, role)) for role in ("first_line", "second_line_dev")
    )
    answers = [first.get("/api/v1/tasks").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = first.get("/api/v1/tasks")
    assert limited.mimetype == "application/problem+json" and "Retry-After" in limited.headers
    assert second.get("/api/v1/tasks").status_code == 200  # another token has its own budget


def test_a_token_tells_who_it_acts_as_whatever_its_scopes(api):
    alarms = api("service_desk", scopes=[tokens.ALARMS])
    answer = alarms.get("/api/v1/token")
    assert answer.status_code == 200
    body = answer.json
    assert body["username"] == "service_desk" and body["roles"] == ["service_desk"]
    assert body["scopes"] == ["alarms"] and body["name"] == "service_desk script"
    assert alarms.secret.startswith(body["prefix"]) and body["created_by"] == "admin user"
    assert body["last_used_at"]  # this call
    assert api(None).get("/api/v1/token").status_code == 401
