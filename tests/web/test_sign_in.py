"""Signing in: the same answer, after the same work, for every name; guessing is slowed down per account
and per client address with growing delays, and nobody can lock a real user out; every attempt is
audited (docs/security.md)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import werkzeug.security
from sqlalchemy import select

from app import audit
from app.models import AuditEvent, User
from app.users import create_user
from tests.web.conftest import Client

WRONG = "not-the-password"
ERROR = re.compile(r'<div class="flash flash-error" role="alert">(.*?)</div>', re.S)


def browser(app, address: str = "127.0.0.1") -> Client:
    client = Client(app.test_client())
    client.http.environ_base["REMOTE_ADDR"] = address
    client.get("/login")
    return client


def attempt(client: Client, username: str, password: str = WRONG):
    response = client.post("/login", {"username": username, "password": password})
    found = ERROR.search(response.get_data(as_text=True))
    return response.status_code, found.group(1) if found else None


@pytest.fixture
def hashes(monkeypatch):
    """The scrypt parameters of every password check, in order (making a hash passes the bare "scrypt")."""
    methods = []
    original = werkzeug.security._hash_internal

    def spy(method, salt, password):
        if method.startswith("scrypt:"):
            methods.append(method)
        return original(method, salt, password)

    monkeypatch.setattr(werkzeug.security, "_hash_internal", spy)
    return methods


def test_every_name_gets_the_same_answer_after_the_same_work(app, db, web, hashes):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"  # as in production
    with db.transaction() as session:
        create_user(session, "zhaolei", "right-password", ["first_line"])  # scrypt
        create_user(session, "qianli", "right-password", ["first_line"]).active = False
    answers = {name: attempt(browser(app), name) for name in ("zhaolei", "nobody", "qianli")}
    assert answers["zhaolei"] == answers["nobody"] == answers["qianli"] == (401, "用户名或密码错误。")
    assert attempt(browser(app), "qianli", "right-password") == (401, "用户名或密码错误。")  # deactivated
    scrypt = "scrypt:32768:8:1"
    assert hashes == [scrypt] * 4  # an unknown or deactivated name costs one scrypt check too


def test_failures_slow_an_account_down_with_growing_delays_but_never_lock_it(app, actors, clock):
    for name in ("first_line", "nobody"):  # a real account and a made-up one: the same answers
        client = browser(app, "198.51.100.1")
        assert [attempt(client, name)[0] for _ in range(5)] == [401] * 5
        for seconds in (1, 2, 4, 8):
            response = client.post("/login", {"username": name, "password": WRONG})
            assert (response.status_code, response.headers["Retry-After"]) == (429, str(seconds))
            assert f"登录失败次数过多。请等待 {seconds} 秒后再试。" in response.get_data(as_text=True)
            clock.tick(timedelta(seconds=seconds))
            assert attempt(client, name)[0] == 401  # heard again after the delay (and failed again)
        clock.tick(timedelta(seconds=16))
    status, _message = attempt(browser(app, "198.51.100.1"), "first_line", "password123")
    assert status == 302  # the right password works once the wait is over: no lockout


def test_a_stranger_cannot_lock_a_real_user_out(app, actors, clock):
    own = browser(app, "192.0.2.10")  # the administrator's own browser, used before
    own.sign_in("admin")
    own.post("/logout")
    own.get("/login")

    stranger = browser(app, "203.0.113.66")
    for _ in range(20):
        attempt(stranger, "admin")
    assert attempt(stranger, "admin")[0] == 429

    status, _message = attempt(own, "admin", "password123")
    assert status == 302  # the stranger's failures do not slow the browser the administrator uses
    # A browser that never signed in to the account waits like the stranger (and sees why).
    assert attempt(browser(app, "192.0.2.11"), "admin", "password123")[0] == 429

    listing = own.get("/admin/users").get_data(as_text=True)
    row = next(row for row in listing.split("<tr")[1:] if 'data-user="admin"' in row)
    assert "登录已放慢" in row


def test_one_address_trying_many_names_is_slowed_down(app, actors, clock):
    sprayer = browser(app, "203.0.113.99")
    answers = [attempt(sprayer, f"user{number}")[0] for number in range(30)]
    assert answers == [401] * 30  # each name fails only once: the address's own allowance
    assert attempt(sprayer, "user30")[0] == 429
    assert attempt(browser(app, "192.0.2.20"), "user31")[0] == 401  # another address is not affected


def test_an_office_signing_in_at_the_same_moment_is_not_slowed_down(app, actors, clock):
    # each attempt counts itself before its password is checked: a colleague's attempt counted a moment
    # after this one began (it failed here, so it stays counted) must not turn this one away
    began = clock.time_to_freeze
    clock.tick(timedelta(milliseconds=50))
    assert attempt(browser(app, "192.0.2.30"), "first_line")[0] == 401
    clock.move_to(began)
    status, _message = attempt(browser(app, "192.0.2.30"), "service_desk", "password123")
    assert status == 302


def test_an_administrators_reset_lifts_the_slow_down(app, as_role, actors):
    stranger = browser(app, "203.0.113.5")
    for _ in range(6):
        attempt(stranger, "first_line")
    admin = as_role("admin")
    page = admin.get(f"/admin/users/{actors['first_line'].user_id}").get_data(as_text=True)
    assert "登录已放慢" in page
    admin.post(
        f"/admin/users/{actors['first_line'].user_id}/password", {"password": "a-new-one", "confirm": "a-new-one"}
    )
    assert attempt(browser(app, "192.0.2.30"), "first_line", "a-new-one")[0] == 302


def test_sign_in_sign_out_and_failures_are_audited(app, db, actors):
    client = browser(app, "192.0.2.40")
    attempt(client, "first_line")
    attempt(client, "ghost")
    client.sign_in("first_line")
    client.post("/logout")
    with db.read() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.kind.in_(("signed_in", "signed_out", "sign_in_failed")))
        )
        seen = [(row.kind, row.actor_name, audit.data_of(row)) for row in rows]
        user = session.scalar(select(User).where(User.username == "first_line"))
    assert seen == [
        ("sign_in_failed", "system", {"username": "first_line", "address": "192.0.2.40", "reason": "wrong_password"}),
        ("sign_in_failed", "system", {"username": "ghost", "address": "192.0.2.40", "reason": "unknown_user"}),
        ("signed_in", user.display_name, {"address": "192.0.2.40"}),
        ("signed_out", user.display_name, {}),
    ]
