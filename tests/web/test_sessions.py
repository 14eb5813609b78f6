"""Sessions live on the server: bounded as docs/web.md says, and ended for good by sign-out, a new
password, an administrator's reset, new roles or a deactivation — on every browser at once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select

from app.models import UserSession
from tests.web.conftest import Client


def signed_in(client: Client) -> bool:
    response = client.get("/account/password")
    return response.status_code == 200


def copy_of(app, client: Client) -> Client:
    """Another browser holding the same session cookie (one saved earlier, or stolen)."""
    other = Client(app.test_client())
    other.http.set_cookie("session", client.http.get_cookie("session").value)
    return other


def test_the_cookie_is_http_only_same_site_and_lives_twelve_hours_at_most(web):
    web.get("/login")
    response = web.post("/login", {"username": "first_line", "password": "password123"})
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=Mon, 02 Mar 2026 13:00:00 GMT" in cookie  # signed in at 01:00 UTC (the frozen clock)


def test_an_idle_hour_ends_the_session(as_role, clock):
    client = as_role("first_line")
    clock.tick(timedelta(minutes=59))
    assert signed_in(client)
    clock.tick(timedelta(minutes=61))
    response = client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.location
    assert "会话已过期" in client.get(response.location).get_data(as_text=True)


def test_a_session_used_every_50_minutes_ends_after_twelve_hours(as_role, clock, db):
    client = as_role("service_desk")
    minutes = 0
    while signed_in(client) and minutes < 24 * 60:
        clock.tick(timedelta(minutes=50))
        minutes += 50
    assert 11 * 60 < minutes <= 12 * 60 + 50


def test_a_cookie_saved_before_sign_out_is_worth_nothing_after_it(app, as_role):
    client = as_role("first_line")
    saved = copy_of(app, client)
    assert signed_in(saved)
    client.post("/logout")
    assert not signed_in(client)
    assert not signed_in(saved)


def test_the_database_holds_only_a_hash_of_the_session_token(app, db, as_role):
    client = as_role("first_line")
    with db.read() as session:
        stored = list(session.scalars(select(UserSession.id)))
    cookie = client.http.get_cookie("session").value
    serializer = app.session_interface.get_signing_serializer(app)
    token = serializer.loads(cookie)["sid"]
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored


def test_a_new_password_signs_out_every_other_browser(app, as_role, db):
    here, elsewhere = as_role("first_line"), as_role("first_line")
    response = here.post(
        "/account/password", {"current": "password123", "new": "new-password", "confirm": "new-password"}
    )
    assert response.status_code == 302
    assert signed_in(here)  # the browser that changed it goes on
    assert not signed_in(elsewhere)
    Client(app.test_client()).sign_in("first_line", "new-password")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(UserSession)) == 2


def test_an_administrator_ends_every_session_of_an_account(as_role, actors):
    admin = as_role("admin")
    user_id = actors["first_line"].user_id
    edit = f"/admin/users/{user_id}"

    reset = as_role("first_line"), as_role("first_line")
    admin.post(f"{edit}/password", {"password": "given-by-admin", "confirm": "given-by-admin"})
    assert not any(signed_in(client) for client in reset)

    def change(**values):
        client = Client(admin.http.application.test_client()).sign_in("first_line", "given-by-admin")
        assert signed_in(client)
        admin.post(edit, {"display_name": "first_line user", "roles": ["first_line"], "active": "1", **values})
        return signed_in(client)

    assert change() is True  # nothing changed: the session goes on
    assert change(display_name="刘洋") is True  # a new name is no reason to sign in again
    assert change(roles=["first_line", "service_desk"]) is False
    assert change(active="") is False
