"""The problem tickets pages: the incident manager's list, a ticket's page with its incidents and its
update form, and the link back from each incident."""

from __future__ import annotations

from tests.driver import number, registration, resolved
from tests.web.pages import row_of, section


def closed_with_problem(desk, incident_id: int) -> None:
    desk.complete("service_desk", incident_id, "initial_support", resolved("workaround", "手工补推"))
    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    closure = {"code": "workaround", "follow_up": "problem", "follow_up_title": "余额同步偶发失败"}
    desk.complete("service_desk", incident_id, "close_incident", {"closure": closure})


def test_the_manager_lists_and_moves_a_problem_ticket_and_the_incident_links_to_it(desk, as_role, actors):
    incident_id = desk.register(registration(complaints=20))
    closed_with_problem(desk, incident_id)
    manager = as_role("incident_manager")
    listing = manager.get("/problems/").get_data(as_text=True)
    assert 'href="/problems/"' in listing  # 问题单 in the menu
    row = row_of(section(listing, "problem-tickets"), "余额同步偶发失败")
    assert "新建" in row and "暂无" in row and number(incident_id) in row
    ticket_url = row[row.index('href="/problems/') + 6 :].split('"')[0]

    page = manager.get(ticket_url).get_data(as_text=True)
    assert number(incident_id) in section(page, "problem-incidents")
    form = section(page, "problem-update")
    choices = form[form.index('<select id="status"') : form.index("</select>")]
    assert "调查中" in choices and "已关闭" in choices and "已知错误" not in choices  # the moves the lifecycle allows
    refused = manager.post(ticket_url, {"status": "closed", "owner_id": "", "note": "", "workaround": ""})
    assert refused.status_code == 422 and "请说明关闭问题单的原因。" in refused.get_data(as_text=True)
    owner = str(actors["second_line_dev"].user_id)
    ok = manager.post(ticket_url, {"status": "investigating", "owner_id": owner, "note": "", "workaround": ""})
    assert ok.status_code == 302
    page = manager.get(ticket_url).get_data(as_text=True)
    assert "调查中" in section(page, "problem") and "second_line_dev user" in section(page, "problem")

    incident_page = as_role("first_line").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert f'href="{ticket_url}"' in incident_page and "调查中" in incident_page  # the link back
    assert as_role("first_line").get(ticket_url).status_code == 200  # handlers read it
    assert as_role("first_line").post(ticket_url, {"status": "closed", "note": "x"}).status_code == 403
    assert as_role("first_line").get("/problems/").status_code == 403  # the list is the manager's
    mine = as_role("requester").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert f'href="{ticket_url}"' not in mine
