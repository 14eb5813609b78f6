"""The problem tickets pages: the incident manager's list, a ticket's page with its incidents and its
update form, and the link back from each incident."""

from __future__ import annotations

from sqlalchemy import select

from app.comments import service as comments
from app.comments.models import WORK_NOTE
from app.models import ProblemTicket
from app.problems.service import link
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


def test_the_ticket_shows_each_incidents_description_and_workaround_and_no_internal_note(desk, db, service, as_role,
                                                                                      actors):  # fmt: skip
    first = desk.register(registration(complaints=20))
    comments.add(service, actors["first_line"], first, WORK_NOTE, "内部：怀疑是同步任务的锁")
    closed_with_problem(desk, first)
    data = registration(complaints=5)
    data["incident"]["description"] = "余额又没同步 <b>加粗</b> & 第二次"
    second = desk.register(data)
    desk.complete("service_desk", second, "initial_support", resolved())  # notes 已诊断 (the handler's, internal)
    third = desk.register(registration(complaints=5))  # linked, not solved yet
    with db.transaction() as session:
        ticket = session.scalars(select(ProblemTicket)).one()
        link(session, ticket, [second, third])
        ticket_id = ticket.id

    page = as_role("second_line_dev").get(f"/problems/{ticket_id}").get_data(as_text=True)
    box = section(page, "problem-incidents")
    items = box.split('data-testid="problem-incident"')[1:]
    assert all(number(incident_id) in item for incident_id, item in zip((first, second, third), items, strict=True))
    assert "营业厅反馈缴费后余额不更新" in items[0] and "变通解决" in items[0] and "手工补推" in items[0]
    assert "余额又没同步 &lt;b&gt;加粗&lt;/b&gt; &amp; 第二次" in items[1] and "<b>加粗" not in page  # escaped
    assert "修复了接口配置" in items[1] and "尚未解决" in items[2]
    assert "内部：怀疑是同步任务的锁" not in page and "已诊断" not in page  # notes stay on the incident page
