"""The requester portal: raise an incident, follow one's own, confirm the resolution."""

from __future__ import annotations

import re

import pytest

from app.users import create_user
from tests.conftest import FAST_HASH
from tests.driver import number, registration, resolved
from tests.web.pages import row_of

RAISE = {
    "incident.title": "手机营业厅缴费页面报错",
    "incident.description": "缴费时提示系统繁忙，已重试三次",
    "incident.system": "手机营业厅",
    "incident.contact": "张伟 13800000000",
}


def raise_incident(client, **changes) -> int:
    response = client.post("/portal/new", {**RAISE, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.location.rsplit("/", 1)[1])


def register(desk, incident_id: int) -> None:
    """The service desk registers a portal incident from its inbox (a request: no emergency)."""
    data = registration("request")
    data["incident"] = {"title": RAISE["incident.title"], "description": "缴费时提示系统繁忙", "source": "portal"}
    desk.complete("service_desk", incident_id, "register_incident", data)


@pytest.fixture
def other_requester(db, as_role):
    with db.transaction() as session:
        create_user(session, "requester2", "password123", ["requester"], "另一位提出人", hash_method=FAST_HASH)
    return as_role("requester2")


def test_a_raised_incident_waits_for_the_service_desk_and_is_listed(desk, as_role, actors):
    client = as_role("requester")
    form = client.get("/portal/new").get_data(as_text=True)
    assert 'name="incident.title"' in form and 'name="incident.contact"' in form
    assert 'name="incident.source"' not in form and 'name="facts.type"' not in form  # no registration here

    incident_id = raise_incident(client)
    incident = desk.incident(incident_id)
    assert (incident.status, incident.source, incident.system) == ("new", "portal", "手机营业厅")
    assert incident.requester_id == actors["requester"].user_id
    assert desk.open_specs(incident_id) == ["register_incident"]
    assert client.get(f"/incidents/{incident_id}").status_code == 200

    inbox = as_role("service_desk").get("/inbox").get_data(as_text=True)
    assert "事件登记" in row_of(inbox, number(incident_id))  # the service desk's registration task for it

    mine = client.get("/portal/").get_data(as_text=True)
    assert number(incident_id) in mine and RAISE["incident.title"] in mine
    assert 'data-testid="confirmations"' not in mine  # nothing to confirm yet


def test_the_form_comes_back_with_errors_beside_the_fields(desk, as_role):
    client = as_role("requester")
    response = client.post(
        "/portal/new", {"incident.title": "", "incident.description": "  ", "incident.system": "计费"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for name in ("incident.title", "incident.description", "incident.contact"):
        assert re.search(rf'class="field w-\w+ has-error" data-field="{re.escape(name)}"', page), name
    assert not re.search(r'has-error" data-field="incident.system"', page)
    assert page.count('class="error"') == 3
    assert 'value="计费"' in page  # what was typed is kept
    too_long = client.post("/portal/new", {**RAISE, "incident.title": "长" * 201})
    assert too_long.status_code == 422
    assert client.get("/portal/").get_data(as_text=True).count("INC") == 0  # nothing was raised


def test_other_requesters_never_see_it(desk, as_role, other_requester):
    client = as_role("requester")
    incident_id = raise_incident(client)
    theirs = raise_incident(other_requester, **{"incident.title": "宽带账单金额不对"})

    assert number(incident_id) not in other_requester.get("/portal/").get_data(as_text=True)
    assert other_requester.get(f"/incidents/{incident_id}").status_code == 404
    mine = client.get("/portal/").get_data(as_text=True)
    assert number(theirs) not in mine and "宽带账单金额不对" not in mine

    register(desk, incident_id)
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    task = desk.task(incident_id, "confirm_resolution")
    assert other_requester.get(f"/tasks/{incident_id}/{task.id}").status_code == 403
    assert "confirmations" not in other_requester.get("/portal/").get_data(as_text=True)
    # nor can they answer it
    answer = {"spec_id": "confirm_resolution", "confirmation.resolved": "true"}
    assert other_requester.post(f"/tasks/{incident_id}/{task.id}", answer).status_code == 403
    assert desk.open_specs(incident_id) == ["confirm_resolution"]


def test_the_confirmation_task_shows_in_the_portal_after_resolution(desk, as_role):
    client = as_role("requester")
    incident_id = raise_incident(client)
    register(desk, incident_id)
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    assert desk.incident(incident_id).status == "resolved"

    page = client.get("/portal/").get_data(as_text=True)
    task = desk.task(incident_id, "confirm_resolution")
    confirmations = page[
        page.index('data-testid="confirmations"') : page.index("</section>", page.index("confirmations"))
    ]
    assert f"/tasks/{incident_id}/{task.id}" in confirmations and "确认解决结果" in confirmations
    assert page.index('data-testid="confirmations"') < page.index('data-testid="my-incidents"')  # shown first

    assert client.get(f"/tasks/{incident_id}/{task.id}").status_code == 200
    response = client.post(f"/tasks/{incident_id}/{task.id}",
                           {"spec_id": "confirm_resolution", "confirmation.resolved": "true"})  # fmt: skip
    assert response.status_code == 302
    assert desk.open_specs(incident_id) == ["close_incident"]
    assert 'data-testid="confirmations"' not in client.get("/portal/").get_data(as_text=True)


def test_only_requesters_use_the_portal(as_role):
    assert as_role("service_desk").get("/portal/").status_code == 403
    assert as_role("incident_manager").post("/portal/new", RAISE).status_code == 403
