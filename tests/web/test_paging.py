"""Every list is cut into pages (app/web/paging.py): page 2 shows the 51st row, the links keep the
filters, the counts say where the reader is, and no list page reads workflow or diagram text."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from app.web.paging import COUNT_CAP, Page
from tests.driver import number, registration
from tests.replays import replayed
from tests.sql import statements

REQUESTS, FAULTS = 52, 3  # 55 incidents: the 52 requests fill one page and two rows of the next


@pytest.fixture
def registered(desk, clock):
    """55 incidents registered a minute apart (the oldest first): each waits in the desk's inbox."""
    return replayed(desk.db, clock, lambda: _register(desk, clock))


def _register(desk, clock) -> list[int]:
    ids = []
    for n in range(REQUESTS + FAULTS):
        ids.append(desk.register(registration("request" if n < REQUESTS else "fault", customer_demand=True)))
        clock.tick(timedelta(minutes=1))
    return ids


def numbers(page: str) -> list[str]:
    """The incident numbers in the page's rows, in order."""
    return re.findall(r">(INC\d{6})</a>", page)


def links(page: str) -> dict[str, str]:
    return {rel: unescape(href) for rel, href in re.findall(r'rel="(prev|next)" href="([^"]+)"', page)}


def test_the_inbox_is_paged_by_deadline_with_its_filter_kept(registered, as_role):
    desk = as_role("service_desk")
    first = desk.get("/inbox?type=request").get_data(as_text=True)
    requests = registered[:REQUESTS]
    assert numbers(first) == [number(i) for i in requests[:50]]  # the nearest deadline first
    assert "第 1–50 条，共 52 条" in first and "第 1 页，共 2 页" in first
    assert "prev" not in links(first)
    second_url = links(first)["next"]
    assert "type=request" in second_url and "page=2" in second_url
    second = desk.get(second_url).get_data(as_text=True)
    assert numbers(second) == [number(requests[50]), number(requests[51])]  # the 51st and 52nd
    assert "第 51–52 条，共 52 条" in second and "第 2 页，共 2 页" in second
    assert "next" not in links(second) and "type=request" in links(second)["prev"]

    everything = desk.get("/inbox").get_data(as_text=True)
    assert "第 1–50 条，共 55 条" in everything
    assert "第 2 页，共 2 页" in desk.get("/inbox?page=99").get_data(as_text=True)  # past the end: the last page


def test_the_incident_list_is_paged_newest_first(registered, as_role):
    reader = as_role("leadership")
    first = reader.get("/incidents/?type=request").get_data(as_text=True)
    newest_first = [number(i) for i in reversed(registered[:REQUESTS])]
    assert numbers(first) == newest_first[:50]
    second = reader.get(links(first)["next"]).get_data(as_text=True)
    assert numbers(second) == newest_first[50:]  # the two oldest requests
    assert "第 51–52 条，共 52 条" in second
    assert numbers(reader.get("/incidents/?type=fault").get_data(as_text=True)) == [
        number(i) for i in reversed(registered[REQUESTS:])
    ]


def test_the_portal_and_the_audit_search_are_paged(registered, as_role):
    mine = as_role("requester").get("/portal/?page=2").get_data(as_text=True)
    assert numbers(mine) == [number(i) for i in reversed(registered[:5])]  # the 51st–55th newest
    assert "第 51–55 条，共 55 条" in mine

    auditor = as_role("auditor")
    first = auditor.get("/audit/?type=request").get_data(as_text=True)
    assert "第 1–50 条事件，共 52 条" in first and "type=request" in links(first)["next"]
    second = auditor.get(links(first)["next"]).get_data(as_text=True)
    assert numbers(second) == [number(i) for i in reversed(registered[:2])]


def test_unreadable_page_numbers_show_the_first_page(registered, as_role):
    desk = as_role("service_desk")
    for bad in ("0", "-3", "x", "99999999999999999999"):
        response = desk.get(f"/incidents/?page={bad}")
        assert response.status_code == 200
        assert numbers(response.get_data(as_text=True))[0] == number(registered[-1])


def test_counting_stops_at_the_cap():
    page = Page(1, COUNT_CAP + 1)
    assert page.capped and page.shown_total == COUNT_CAP
    assert page.pages == COUNT_CAP // page.per_page
    assert page.at(10**6).number == page.pages  # no page past the counted rows
    assert not Page(1, COUNT_CAP).capped


LIST_PAGES = ("/inbox", "/incidents/", "/manager/", "/overview/", "/problems/", "/search/?q=计费接口")


@pytest.mark.parametrize("path", LIST_PAGES)
def test_list_pages_never_read_workflow_or_diagram_text(registered, as_role, path):
    role = {"/manager/": "incident_manager", "/overview/": "leadership", "/problems/": "incident_manager"}
    client = as_role(role.get(path, "service_desk"))
    with statements() as sent:
        response = client.get(path)
    assert response.status_code == 200
    selects = [statement for statement in sent if statement.upper().startswith("SELECT")]
    assert selects
    for statement in selects:
        assert "incident_states" not in statement, statement
        assert "bpmn_xml" not in statement and "forms_json" not in statement, statement
