"""Account administration: create, edit roles, deactivate, reset a password; every change audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import audit
from app.models import AuditEvent, User
from tests.web.conftest import Client

NEW = {
    "username": "lisi",
    "display_name": "李四",
    "password": "first-password",
    "roles": ["first_line", "service_desk"],
}


def account(db, username: str) -> User | None:
    with db.read() as session:
        return session.scalar(select(User).where(User.username == username))


def audit_rows(db, kind: str) -> list[dict]:
    with db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id))
        return [audit.data_of(event) | {"_actor": event.actor_name} for event in events]


def field_error(page: str, name: str) -> bool:
    """An error sits inside the field of that name."""
    for match in re.finditer(r'<div class="field[^"]*has-error">', page):
        field = re.split(r'<div class="field|</form>', page[match.end() :], maxsplit=1)[0]
        if f'name="{name}"' in field and 'class="error"' in field:
            return True
    return False


@pytest.fixture
def admin(as_role):
    return as_role("admin")


def create(admin, **changes):
    return admin.post("/admin/users/new", {**NEW, **changes})


def test_create_a_user_who_can_then_sign_in(app, db, admin):
    form = admin.get("/admin/users/new").get_data(as_text=True)
    assert form.count('type="checkbox" name="roles"') == 11
    response = create(admin)
    assert response.status_code == 302
    user = account(db, "lisi")
    assert (user.display_name, user.roles, user.active) == ("李四", {"first_line", "service_desk"}, True)
    assert response.location.endswith(f"/admin/users/{user.id}")
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "lisi" in listing and "李四" in listing

    [row] = audit_rows(db, "user_created")
    assert row == {
        "user": "lisi",
        "display_name": "李四",
        "roles": ["first_line", "service_desk"],
        "_actor": "admin user",
    }
    Client(app.test_client()).sign_in("lisi", "first-password")


def test_invalid_accounts_come_back_with_errors(db, admin):
    cases = [
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "requester"}, "username"),  # taken
        ({"display_name": ""}, "display_name"),
        ({"password": "short"}, "password"),
        ({"roles": []}, "roles"),
        ({"roles": ["root"]}, "roles"),
    ]
    for changes, field in cases:
        response = create(admin, **changes)
        assert response.status_code == 422, changes
        page = response.get_data(as_text=True)
        assert field_error(page, field), (changes, field)
        assert "first-password" not in page  # a password is never sent back
    assert account(db, "lisi") is None and audit_rows(db, "user_created") == []


def test_edit_roles_and_deactivate(app, db, admin, as_role):
    user_id = account(db, "first_line").id
    signed_in = as_role("first_line")
    assert signed_in.get("/inbox").status_code == 200

    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert 'value="first_line" checked' in page
    response = admin.post(
        f"/admin/users/{user_id}", {"display_name": "刘洋", "roles": ["second_line_dev"], "active": "1"}
    )
    assert response.status_code == 302
    user = account(db, "first_line")
    assert (user.display_name, user.roles, user.active) == ("刘洋", {"second_line_dev"}, True)
    [row] = audit_rows(db, "user_updated")
    assert row["user"] == "first_line"
    assert row["changes"] == {
        "display_name": {"before": "first_line user", "after": "刘洋"},
        "roles": {"before": ["first_line"], "after": ["second_line_dev"]},
    }
    # the user's session ends with the change of roles; signing in again gives the new roles
    assert signed_in.get("/inbox").status_code == 302
    Client(app.test_client()).sign_in("first_line")

    admin.post(f"/admin/users/{user_id}", {"display_name": "刘洋", "roles": ["second_line_dev"]})  # active unticked
    assert account(db, "first_line").active is False
    assert audit_rows(db, "user_updated")[-1]["changes"] == {"active": {"before": True, "after": False}}
    login = Client(app.test_client())
    login.get("/login")
    assert login.post("/login", {"username": "first_line", "password": "password123"}).status_code == 401

    unchanged = admin.post(f"/admin/users/{user_id}", {"display_name": "刘洋", "roles": ["second_line_dev"]})
    assert unchanged.status_code == 302 and len(audit_rows(db, "user_updated")) == 2  # no change, no row


def test_reset_a_password(app, db, admin):
    user_id = account(db, "auditor").id
    old_hash = account(db, "auditor").password_hash
    mismatch = admin.post(f"/admin/users/{user_id}/password", {"password": "new-password-1", "confirm": "other-one"})
    assert mismatch.status_code == 422 and field_error(mismatch.get_data(as_text=True), "confirm")
    short = admin.post(f"/admin/users/{user_id}/password", {"password": "short", "confirm": "short"})
    assert short.status_code == 422 and field_error(short.get_data(as_text=True), "password")
    assert account(db, "auditor").password_hash == old_hash

    response = admin.post(
        f"/admin/users/{user_id}/password", {"password": "new-password-1", "confirm": "new-password-1"}
    )
    assert response.status_code == 302
    Client(app.test_client()).sign_in("auditor", "new-password-1")
    [row] = audit_rows(db, "password_reset")
    assert row == {"user": "auditor", "_actor": "admin user"}


def test_no_password_or_hash_in_the_audit_log(db, admin):
    create(admin)
    user_id = account(db, "lisi").id
    admin.post(f"/admin/users/{user_id}/password", {"password": "second-password", "confirm": "second-password"})
    hashed = account(db, "lisi").password_hash
    with db.read() as session:
        kinds = ("user_created", "user_updated", "password_reset")
        texts = [event.data for event in session.scalars(select(AuditEvent).where(AuditEvent.kind.in_(kinds)))]
    assert len(texts) == 2
    for text in texts:
        assert "first-password" not in text and "second-password" not in text
        assert hashed not in text and "pbkdf2" not in text and "hash" not in text


def test_an_admin_cannot_demote_or_deactivate_themselves(db, admin):
    me = account(db, "admin").id
    demote = admin.post(f"/admin/users/{me}", {"display_name": "管理员", "roles": ["auditor"], "active": "1"})
    assert demote.status_code == 422 and field_error(demote.get_data(as_text=True), "roles")
    deactivate = admin.post(f"/admin/users/{me}", {"display_name": "管理员", "roles": ["admin"]})
    assert deactivate.status_code == 422 and field_error(deactivate.get_data(as_text=True), "active")
    user = account(db, "admin")
    assert (user.roles, user.active, user.display_name) == ({"admin"}, True, "admin user")
    assert audit_rows(db, "user_updated") == []
    # adding a role to oneself is allowed (and signs one out to pick it up)
    assert admin.post(f"/admin/users/{me}", {"display_name": "管理员", "roles": ["admin", "auditor"],
                                             "active": "1"}).status_code == 302  # fmt: skip
    assert account(db, "admin").roles == {"admin", "auditor"}


def test_other_roles_get_403_and_unknown_users_404(db, admin, as_role):
    user_id = account(db, "auditor").id
    for role in ("requester", "service_desk", "incident_manager", "leadership", "auditor", "process_owner"):
        client = as_role(role)
        assert client.get("/admin/users").status_code == 403
        assert client.get(f"/admin/users/{user_id}").status_code == 403
        assert create(client).status_code == 403
        assert (
            client.post(f"/admin/users/{user_id}/password", {"password": "x" * 10, "confirm": "x" * 10}).status_code
            == 403
        )
    assert account(db, "lisi") is None and audit_rows(db, "password_reset") == []
    assert admin.get("/admin/users/999999").status_code == 404
    assert admin.get("/admin/users/99999999999").status_code == 404  # beyond a 32-bit id: no 500
    assert admin.post("/admin/users/999999", {"display_name": "x", "roles": ["admin"]}).status_code == 404
    assert admin.post("/admin/users/999999/password", {"password": "x" * 10, "confirm": "x" * 10}).status_code == 404
