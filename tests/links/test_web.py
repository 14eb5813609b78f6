"""Links on the incident pages, the children's view of their major incident, resolving the children
from the parent's page with each child's answer, and the reports counting the parent once."""

from __future__ import annotations

import re

from app.links import service as links
from app.links.service import PART_OF
from tests.driver import number, pass_on, registration, resolved
from tests.web.pages import section


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_linking_from_the_page_shows_on_both_incidents(desk, as_role):
    a, b = desk.register(registration()), desk.register(registration())
    handler = as_role("first_line")
    response = handler.post(f"/incidents/{a}/links", {"kind": "duplicate_of", "other": number(b).lower()})
    assert response.status_code == 302
    assert f"重复于 {number(b)}" in text(section(handler.get(f"/incidents/{a}").get_data(as_text=True), "links"))
    assert f"被重复 {number(a)}" in text(section(handler.get(f"/incidents/{b}").get_data(as_text=True), "links"))
    response = handler.post(f"/incidents/{a}/links", {"kind": "related_to", "other": "INC999999"})
    assert "没有事件 INC999999。" in text(handler.get(response.location).get_data(as_text=True))
    page = as_role("requester").get(f"/incidents/{a}").get_data(as_text=True)
    assert number(b) not in page and 'data-testid="links"' not in page  # links are internal
    refused = as_role("requester").post(f"/incidents/{a}/links", {"kind": "related_to", "other": str(b)})
    assert refused.status_code == 403


def test_children_show_the_parents_status_and_are_resolved_from_the_parent(desk, service, actors, as_role):
    parent = desk.register(registration())
    children = [desk.register(registration()) for _ in range(2)]
    handler = as_role("service_desk")
    for child in children:
        handler.post(f"/incidents/{child}/links", {"kind": PART_OF, "other": number(parent)})
    page = text(section(handler.get(f"/incidents/{children[0]}").get_data(as_text=True), "links"))
    assert f"属于重大事件 {number(parent)}" in page and "其状态: 处理中" in page
    parent_page = handler.get(f"/incidents/{parent}").get_data(as_text=True)
    assert "2 个子事件" in text(section(parent_page, "links")) and 'data-testid="resolve-children"' not in parent_page
    desk.complete("service_desk", parent, "initial_support", resolved(text="更换了故障交换机"))
    desk.complete("service_desk", children[1], "initial_support", pass_on("first_line"))
    parent_page = handler.get(f"/incidents/{parent}").get_data(as_text=True)
    assert 'data-testid="resolve-children"' in parent_page
    response = handler.post(f"/incidents/{parent}/resolve-children", {"child": [str(c) for c in children]})
    assert response.status_code == 200
    results = text(response.get_data(as_text=True))
    assert "2 个中已完成 1 个。" in results
    assert f"{number(children[0])} 已完成" in results
    assert f"{number(children[1])} 被拒绝 其当前环节“一线尝试解决”不由您处理。" in results
    child_page = text(handler.get(f"/incidents/{children[0]}").get_data(as_text=True))
    assert "更换了故障交换机" in child_page and "其状态: 已解决" in child_page


def test_reports_count_the_major_incident_once_and_say_so(app, desk, service, actors, as_role):
    parent = desk.register(registration())
    children = [desk.register(registration()) for _ in range(3)]
    manager = as_role("incident_manager")
    before = manager.get("/reports/?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert 'data-testid="major-note"' not in before
    for child in children:
        links.link(service, actors["service_desk"], child, PART_OF, parent)
    page = manager.get("/reports/?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "有 3 个事件是重大事件的子事件：各项统计只把其重大事件计为一次" in page
    backlog_before = re.search(r'data-testid="backlog".*?</section>', before, re.S).group(0)
    backlog_after = re.search(r'data-testid="backlog".*?</section>', page, re.S).group(0)
    assert ">4<" in backlog_before and ">1<" in backlog_after and ">4<" not in backlog_after
