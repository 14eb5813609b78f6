"""The "changed since" answers: they change when what the page shows may have, and tell the
requester nothing of what is internal."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.comments import service as comments
from app.comments.models import COMMENT, WORK_NOTE
from tests.driver import registration


def version(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200 and response.is_json
    return response.get_json()["version"]


def test_an_incident_page_changes_with_each_entry_the_reader_sees(desk, service, actors, as_role):
    incident_id = desk.register(registration())
    handler, requester = as_role("first_line"), as_role("requester")
    url = f"/live/incidents/{incident_id}"
    page = handler.get(f"/incidents/{incident_id}").get_data(as_text=True)
    drawn = re.search(r'data-live-version="(\d+)"', page).group(1)
    assert drawn == version(handler, url) and "data-live-region" in page
    theirs = version(requester, url)
    comments.add(service, actors["first_line"], incident_id, WORK_NOTE, "内部备注")
    assert version(handler, url) != drawn
    assert version(requester, url) == theirs  # a work note is not even a change for the requester
    comments.add(service, actors["first_line"], incident_id, COMMENT, "给提出人的留言")
    assert version(requester, url) != theirs


def test_someone_elses_incident_answers_404(desk, db, as_role):
    from app.users import create_user
    from tests.conftest import FAST_HASH

    incident_id = desk.register(registration())
    with db.transaction() as session:
        create_user(session, "requester2", "password123", ["requester"], hash_method=FAST_HASH)
    assert as_role("requester2").get(f"/live/incidents/{incident_id}").status_code == 404
    assert as_role("requester2").get("/live/incidents/999999").status_code == 404


def test_the_badge_counts_tasks_and_mentions(desk, service, actors, as_role):
    manager = as_role("incident_manager")
    assert manager.get("/live/badge").get_json()["count"] == 0
    incident_id = desk.register(registration())
    comments.add(service, actors["service_desk"], incident_id, WORK_NOTE, "@incident_manager 请看")
    assert manager.get("/live/badge").get_json() == {"count": 1, "text": "1", "version": "1"}
    page = manager.get("/inbox").get_data(as_text=True)
    assert 'data-live-badge="/live/badge"' in page and '<span class="count" data-count data-live-badge=' in page


def test_console_and_overview_change_with_any_incident(desk, as_role):
    manager, leader = as_role("incident_manager"), as_role("leadership")
    before = version(manager, "/live/manager"), version(leader, "/live/overview")
    desk.register(registration())
    after = version(manager, "/live/manager"), version(leader, "/live/overview")
    assert after[0] != before[0] and after[1] != before[1]
    for page in (manager.get("/manager/"), leader.get("/overview/")):
        html = page.get_data(as_text=True)
        assert "data-live-region" in html and '<meta http-equiv="refresh" content="60">' in html


def test_the_console_sees_a_change_that_commits_after_a_newer_one(db, desk, service, actors, as_role):
    """An action writes its audit rows, with their ids, before it commits: another incident's action can
    commit a higher id in between, and a poll then must not take the lower one, once it commits, as seen."""
    if not db.is_postgresql:
        pytest.skip("SQLite has one writer at a time: rows commit in the order of their ids")
    manager = as_role("incident_manager")
    first, second = desk.register(registration()), desk.register(registration())
    written, release = threading.Event(), threading.Event()

    def hold(_session) -> None:
        if threading.current_thread() is late:
            written.set()
            release.wait(30)

    late = threading.Thread(target=comments.add, args=(service, actors["first_line"], first, WORK_NOTE, "先写后提交"))
    event.listen(Session, "before_commit", hold)
    try:
        late.start()
        assert written.wait(30)
        comments.add(service, actors["first_line"], second, WORK_NOTE, "后写先提交")
        seen = version(manager, "/live/manager")
        release.set()
        late.join(30)
    finally:
        release.set()
        event.remove(Session, "before_commit", hold)
    assert not late.is_alive()
    assert version(manager, "/live/manager") != seen
