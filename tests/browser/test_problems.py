"""The problem ticket's owner (问题经理: the incident manager made them its owner) opens the ticket and
reads what they work the problem from: each linked incident's description and how it was got round,
as written — and nothing the handlers noted internally."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.comments import service as comments
from app.comments.models import WORK_NOTE
from app.models import ProblemTicket
from app.problems.service import ProblemService, link
from tests.driver import number, registration, resolved

WORKAROUND = "手工补推余额同步，10 分钟内到账"
TYPED = "余额又没同步 <script>alert(1)</script> & 第二次"


def test_the_problem_owner_reads_the_incidents_descriptions_and_workarounds(open_as, live_server, desk, db, actors):
    first = desk.register(registration(complaints=20))
    comments.add(desk.service, actors["first_line"], first, WORK_NOTE, "内部：怀疑是同步任务的锁")
    desk.complete("service_desk", first, "initial_support", resolved("workaround", WORKAROUND))
    desk.complete("requester", first, "confirm_resolution", {"confirmation": {"resolved": True}})
    closure = {"code": "workaround", "follow_up": "problem", "follow_up_title": "余额同步偶发失败"}
    desk.complete("service_desk", first, "close_incident", {"closure": closure})
    data = registration(complaints=5)
    data["incident"]["description"] = TYPED
    second = desk.register(data)
    with db.transaction() as session:
        ticket = session.scalars(select(ProblemTicket)).one()
        link(session, ticket, [second])
        ticket_id, ticket_number = ticket.id, ticket.number
    ProblemService(db).update(actors["incident_manager"], ticket_id, status="investigating",
                              owner_id=actors["second_line_dev"].user_id, note="", workaround="")  # fmt: skip

    owner = open_as("second_line_dev")
    owner.goto(f"{live_server}/incidents/{first}")
    owner.get_by_role("link", name=ticket_number).click()  # from the incident to its problem ticket
    expect(owner.locator("h1")).to_have_text(f"{ticket_number} 余额同步偶发失败")
    expect(owner.get_by_test_id("problem")).to_contain_text("second_line_dev user")
    incidents = owner.get_by_test_id("problem-incident")
    expect(incidents).to_have_count(2)
    raised_from, linked = incidents.nth(0), incidents.nth(1)
    expect(raised_from).to_contain_text(number(first))
    expect(raised_from.get_by_test_id("incident-description")).to_have_text("营业厅反馈缴费后余额不更新")
    expect(raised_from.get_by_test_id("incident-solution")).to_contain_text("变通解决")
    expect(raised_from.get_by_test_id("incident-solution")).to_contain_text(WORKAROUND)
    expect(linked).to_contain_text(number(second))
    expect(linked.get_by_test_id("incident-description")).to_have_text(TYPED)  # as typed, not run
    expect(linked.get_by_test_id("incident-description").locator("script")).to_have_count(0)
    expect(linked.get_by_test_id("incident-solution")).to_have_text("尚未解决")
    body = owner.locator("main").inner_text()
    assert "内部：怀疑是同步任务的锁" not in body and "已诊断" not in body  # internal notes stay on the incident
