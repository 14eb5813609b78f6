"""The notification centre: the bell's count on every page, the list in the reader's language, opening
a notification (read, and on to its task), marking all read, and the poll the bell makes."""

from __future__ import annotations

import re

from tests.driver import number, pass_on, registration


def bell(page: str) -> str:
    found = re.search(r"data-unread(?: hidden)?>(\d+)<", page)
    return found.group(1)


def test_a_task_in_the_pool_shows_on_the_bell_and_in_the_list(desk, as_role):
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    task = desk.task(incident_id, "first_line_handling")
    client = as_role("first_line")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert bell(inbox) == "1" and "has-unread" in inbox
    assert client.get("/notifications/unread").get_json() == {"unread": 1}

    page = client.get("/notifications/").get_data(as_text=True)
    assert f"【待办】{number(incident_id)} 一线尝试解决" in page and "您所在的组收到一项新任务" in page
    opened = re.search(r'action="(/notifications/\d+/open)"', page).group(1)
    response = client.post(opened)
    assert response.status_code == 302 and response.location == f"/tasks/{incident_id}/{task.id}"
    assert client.get("/notifications/unread").get_json() == {"unread": 0}
    page = client.get("/notifications/").get_data(as_text=True)
    assert bell(page) == "0" and "data-unread hidden" in page and "notification unread" not in page


def test_the_list_speaks_the_readers_language_now(desk, as_role):
    incident_id = desk.register(registration("request"))
    client = as_role("requester")
    client.post("/language", {"locale": "en", "next": "/"})
    page = client.get("/notifications/").get_data(as_text=True)
    assert f"[Registered] {number(incident_id)}" in page and "【已受理】" not in page


def test_mark_all_read_and_nobody_opens_anothers(desk, as_role):
    incident_id = desk.register(registration(core_business_impact="yes"))  # emergency: manager and leadership
    leader = as_role("leadership")
    page = leader.get("/notifications/").get_data(as_text=True)
    assert f"【紧急事件】{number(incident_id)}" in page
    opened = re.search(r'action="(/notifications/\d+/open)"', page).group(1)
    assert as_role("incident_manager").post(opened).status_code == 404  # the leader's, not theirs
    assert leader.post("/notifications/read").status_code == 302
    assert leader.get("/notifications/unread").get_json() == {"unread": 0}
    assert "1 条通知已标为已读" in leader.get("/notifications/").get_data(as_text=True)
    assert as_role("incident_manager").get("/notifications/unread").get_json() == {"unread": 1}


def test_the_centre_needs_a_signed_in_person(web):
    assert web.get("/notifications/").status_code == 302
    assert web.get("/notifications/unread").status_code in (302, 401)
