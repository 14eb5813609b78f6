"""Bulk actions from the inbox and the incident list, as their answer page shows them."""

from __future__ import annotations

import re

from tests.driver import number, registration


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_from_the_incident_list(desk, as_role):
    original, a, b = (desk.register(registration()) for _ in range(3))
    desk_client = as_role("service_desk")
    page = desk_client.get("/incidents/").get_data(as_text=True)
    assert 'data-testid="bulk"' in page and f'name="incident" value="{a}" form="bulk"' in page
    response = desk_client.post("/bulk/incidents", {"incident": [str(a), str(b), str(original)], "action": "duplicate",
                                                    "original": number(original)})  # fmt: skip
    assert response.status_code == 200
    answer = text(response)
    assert f"将所选事件作为 {number(original)} 的重复事件关闭" in answer and "3 个中已完成 2 个。" in answer
    assert f"{number(original)} 被拒绝 事件不能是自身的重复。" in answer
    assert desk.incident(a).closure_code == "duplicate"
    requester_page = as_role("requester").get(f"/incidents/{a}").get_data(as_text=True)
    assert "作为重复事件关闭" in requester_page and number(original) not in requester_page


def test_from_the_inbox_and_the_refusals(desk, as_role):
    parent, a = desk.register(registration()), desk.register(registration())
    desk_client = as_role("service_desk")
    page = desk_client.get("/inbox").get_data(as_text=True)
    task = desk.task(a, "initial_support")
    assert f'value="{a}:{task.id}" form="bulk"' in page
    response = desk_client.post("/bulk/tasks", {"task": f"{a}:{task.id}", "action": "link", "parent": str(parent)})
    assert "1 个中已完成 1 个。" in text(response)
    nothing = desk_client.post("/bulk/tasks", {"action": "link"})
    assert "请先至少选择一个事件。" in text(desk_client.get(nothing.location))
    response = desk_client.post("/bulk/incidents", {"incident": str(a), "action": "link", "parent": "abc"})
    assert "请填写事件编号" in text(desk_client.get(response.location))
    assert as_role("leadership").post("/bulk/incidents", {"incident": str(a), "action": "link",
                                                          "parent": str(parent)}).status_code == 403  # fmt: skip
    assert 'data-testid="bulk"' not in as_role("leadership").get("/incidents/").get_data(as_text=True)
