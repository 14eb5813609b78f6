"""The token pages: a person makes and revokes their own tokens, an admin anyone's; a new token is
shown once."""

from __future__ import annotations

import re

from app.api import tokens

SECRET = re.compile(r'data-testid="token-secret">([^<]+)<')


def test_a_person_creates_a_token_sees_it_once_and_revokes_it(as_role, app):
    client = as_role("first_line")
    page = client.get("/account/tokens/").get_data(as_text=True)
    assert "API" in page and 'name="scopes"' in page and 'name="user_id"' not in page
    answer = client.post("/account/tokens/", {"name": "我的脚本", "scopes": [tokens.READ, tokens.COMPLETE_TASKS]})
    assert answer.status_code == 200
    secret = SECRET.search(answer.get_data(as_text=True)).group(1)
    api = app.test_client()
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = client.get("/account/tokens/").get_data(as_text=True)
    assert "我的脚本" in listing and secret not in listing and "tasks:complete" in listing
    token_id = re.search(r'data-token="(\d+)"', listing).group(1)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "Revoked" in client.get("/account/tokens/").get_data(as_text=True) or "已撤销" in client.get(
        "/account/tokens/"
    ).get_data(as_text=True)


def test_refusals_are_shown_beside_the_fields(as_role):
    client = as_role("requester")
    answer = client.post("/account/tokens/", {"name": "", "scopes": [tokens.READ]})
    assert answer.status_code == 422 and 'class="error"' in answer.get_data(as_text=True)
    assert 'data-testid="token-secret"' not in answer.get_data(as_text=True)


def test_an_admin_makes_a_token_for_another_account_and_others_cannot(as_role, actors):
    admin = as_role("admin")
    page = admin.get("/account/tokens/").get_data(as_text=True)
    assert 'name="user_id"' in page
    target = actors["service_desk"].user_id
    answer = admin.post("/account/tokens/", {"name": "Alertmanager", "scopes": [tokens.ALARMS], "user_id": target})
    assert SECRET.search(answer.get_data(as_text=True))
    assert "Alertmanager" in admin.get("/account/tokens/").get_data(as_text=True)
    other = as_role("first_line")
    refused = other.post("/account/tokens/", {"name": "x", "scopes": [tokens.READ], "user_id": target})
    assert refused.status_code == 422 and not SECRET.search(refused.get_data(as_text=True))
    token_id = re.search(r'data-token="(\d+)"', admin.get("/account/tokens/").get_data(as_text=True)).group(1)
    assert other.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert "data-token=" not in other.get("/account/tokens/").get_data(as_text=True)
