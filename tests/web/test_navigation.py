"""The menu: each role sees its areas, and exactly the area of the page is marked."""

from __future__ import annotations

import re

from tests.driver import registration

ACTIVE = re.compile(r'<a href="[^"]*" class="active">([^<]+)')


def active_entries(page: str) -> list[str]:
    return [label.strip() for label in ACTIVE.findall(page)]


def test_exactly_the_area_of_the_page_is_marked(desk, as_role):
    incident_id = desk.register(registration(complaints=20))
    task = desk.task(incident_id, "initial_support")
    client = as_role("service_desk")
    expected = {
        "/inbox": ["我的任务"],
        f"/tasks/{incident_id}/{task.id}": ["我的任务"],
        "/incidents/new": ["登记"],
        "/incidents/": ["事件"],
        f"/incidents/{incident_id}": ["事件"],
    }
    for url, labels in expected.items():
        assert active_entries(client.get(url).get_data(as_text=True)) == labels, url
