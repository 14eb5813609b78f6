"""The auditors' pages: search every instance, one instance's history with the diagram replay, the
integrity banner, the exports, and nobody else getting in."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app import audit, audit_export
from app.audit.jobs import check_and_seal
from app.audit_export import record_mac
from app.models import AuditEvent, Incident
from app.process import versions
from app.web.i18n import content
from tests.conftest import AUDIT_KEY, T0
from tests.driver import number, pass_on, registration, resolved
from tests.replays import replayed

NOTIFICATION = {"channels": ["sms"], "recipients": "省公司值班", "content": "计费接口故障通报"}
AUDIT_ROUTES = [
    "/audit/",
    "/audit/export.csv",
    "/audit/export.json",
    "/audit/incidents/{id}",
    "/audit/incidents/{id}/history.csv",
    "/audit/incidents/{id}/history.json",
]


@dataclass
class Story:
    billing: int  # fault, E3 to yellow, warned, resolved by first line, closed
    roaming: int  # request, warned and breached, still at initial support
    question: int  # consultation solved on the spot, registered the next day (Beijing time)


def _registration(type_: str, title: str, system: str | None = None, **facts) -> dict:
    data = registration(type_, **facts)
    data["incident"]["title"] = title
    if system:
        data["incident"]["system"] = system
    return data


@pytest.fixture
def story(desk, service, actors, clock) -> Story:
    return replayed(desk.db, clock, lambda: _story(desk, service, actors, clock))


def _story(desk, service, actors, clock) -> Story:
    billing = desk.register(_registration("fault", "计费接口超时", complaints=20))  # minor, 24 h
    roaming = desk.register(_registration("request", "开通国际漫游"))  # 24 h
    desk.complete("service_desk", billing, "initial_support", pass_on("first_line"))
    service.claim(actors["first_line"], billing, desk.task(billing, "first_line_handling").id)
    service.add_facts(actors["first_line"], billing, {"note": "客户投诉到副总", "vp_complaint": True})  # E3
    desk.complete("incident_manager", billing, "notify_fault", {"notification": NOTIFICATION})
    clock.tick(timedelta(hours=19, minutes=13))  # past both warnings (19.2 h)
    assert service.fire_due_timers() == 2
    # 2026-03-02 20:13 UTC: already 2026-03-03 04:13 in Beijing
    question = desk.register(_registration("consultation", "咨询话费账单", "计费系统", solved=True))
    desk.complete("first_line", billing, "first_line_handling", resolved())
    desk.complete("requester", billing, "confirm_resolution", {"confirmation": {"resolved": True}})
    desk.complete("service_desk", billing, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    clock.tick(timedelta(hours=5))  # past the roaming request's deadline
    assert service.fire_due_timers() == 1
    return Story(billing, roaming, question)


@pytest.fixture
def auditor(as_role):
    client = as_role("auditor")
    client.post("/language", {"locale": "en", "next": "/audit/"})  # English ids as shown
    return client


def found(client, query: str) -> list[int]:
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    return [int(value) for value in re.findall(r'data-incident="(\d+)"', response.get_data(as_text=True))]


def plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()).replace(" :", ":")


def history_rows(page: str) -> list[tuple[int, str, str]]:
    """(row id, event kind, the row's text) for each row of the history table, in page order."""
    rows = re.findall(r'<tr id="row-(\d+)" data-row="\d+" data-kind="([a-z_]+)"[^>]*>(.*?)</tr>', page, re.S)
    return [(int(row), kind, plain(cells)) for row, kind, cells in rows]


def replay_data(page: str) -> dict:
    block = re.search(r'<script type="application/json" id="replay-data">(.*?)</script>', page, re.S)
    return json.loads(block.group(1))


def in_english(app, text_: str) -> str:
    with app.test_request_context(), force_locale("en"):
        return content(text_)


# ------------------------------------------------------------------------------------------ search


def test_search_filters_find_exactly_the_expected_incidents(story, auditor):
    s = story
    assert found(auditor, "") == [s.question, s.roaming, s.billing]
    assert found(auditor, f"q={number(s.billing)}") == [s.billing]
    assert found(auditor, f"q={s.roaming}") == [s.roaming]
    assert found(auditor, "q=漫游") == [s.roaming]
    assert found(auditor, "q=计费") == [s.question, s.billing]  # the question's system, the billing title
    assert found(auditor, "type=request") == [s.roaming]
    assert found(auditor, "type=consultation") == [s.question]
    assert found(auditor, "q=INC99999999999999999999") == []
    assert found(auditor, "level=yellow") == [s.billing]
    assert found(auditor, "level=red") == []
    assert found(auditor, "status=closed") == [s.question, s.billing]
    assert found(auditor, "status=open") == [s.roaming]
    assert found(auditor, "breached=1") == [s.roaming]
    assert found(auditor, "emergency=1") == []
    assert found(auditor, "person=first_line+user") == [s.billing]  # display name
    assert found(auditor, "person=INCIDENT_MANAGER") == [s.billing]  # user name, any case
    assert found(auditor, "person=nobody") == []
    assert found(auditor, "role=first_line") == [s.billing]
    assert found(auditor, "role=requester") == [s.billing]
    assert found(auditor, "role=system") == [s.roaming, s.billing]  # timers fired
    assert found(auditor, "role=second_line_dev") == []
    assert found(auditor, "role=service_desk&person=first_line+user") == []  # one person in one role
    assert found(auditor, "role=first_line&person=first_line+user") == [s.billing]
    # registered 2026-03-02 09:00 and 2026-03-03 04:13 Beijing time (2026-03-02 20:13 UTC)
    assert found(auditor, "from=2026-03-03") == [s.question]
    assert found(auditor, "to=2026-03-02") == [s.roaming, s.billing]
    assert found(auditor, "from=2026-03-02&to=2026-03-02&type=fault") == [s.billing]
    assert found(auditor, "from=2026-03-04") == []


def test_search_page_shows_links_filters_and_a_bad_date(story, auditor):
    page = auditor.get("/audit/?from=yesterday&type=request").get_data(as_text=True)
    assert "Enter a date like 2026-03-02." in page
    assert re.findall(r'data-incident="(\d+)"', page) == [str(story.roaming)]  # the bad date is left out
    assert f'href="/audit/incidents/{story.roaming}"' in page
    assert 'href="/audit/export.csv?type=request"' in page and 'href="/audit/export.json?type=request"' in page
    assert "Incidents 1–1 of 1" in page
    assert '<option value="request" selected>' in page


def test_search_pages_by_fifty(desk, db, auditor):
    with db.transaction() as session:
        version = versions.latest(session)
        for n in range(51):
            session.add(Incident(process_version_id=version.id, status="open", title=f"批量事件{n:02d}", created_at=T0))
    first = auditor.get("/audit/?q=批量").get_data(as_text=True)
    ids = [int(value) for value in re.findall(r'data-incident="(\d+)"', first)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    assert "Incidents 1–50 of 51" in first and "Page 1 of 2" in first
    next_link = re.search(r'<a class="button" rel="next" href="([^"]+)"', first).group(1)
    second = auditor.get(html.unescape(next_link)).get_data(as_text=True)
    rest = [int(value) for value in re.findall(r'data-incident="(\d+)"', second)]
    assert len(rest) == 1 and rest[0] < min(ids)
    assert "Incidents 51–51 of 51" in second and 'rel="prev"' in second and 'rel="next"' not in second


# ------------------------------------------------------------------------------------------ history


def test_history_lists_every_event_in_order_with_actors_and_changes(story, auditor, desk, db, app):
    page = auditor.get(f"/audit/incidents/{story.billing}").get_data(as_text=True)
    with db.read() as session:
        events = audit.events_of(session, story.billing)
    rows = history_rows(page)
    assert [(row, kind) for row, kind, _ in rows] == [(e.id, e.kind) for e in events]
    by_kind = {}
    for _row, kind, row_text in rows:
        by_kind.setdefault(kind, []).append(row_text)

    started = by_kind["started"][0]
    assert started.startswith(f"{events[0].id} 2026-03-02 09:00:00 service_desk user Service desk Incident raised")
    registered, support, notified, handled, confirmed, closed = by_kind["task_completed"]
    assert in_english(app, "事件登记") in registered and "Task completed" in registered
    assert f"{in_english(app, '当次故障累计投诉数')}: — → 20" in registered
    outcome = in_english(app, "处理结果")
    assert f"{outcome}: — → {in_english(app, '移交')}" in support
    assert f"{in_english(app, '通报渠道')}: — → {in_english(app, '短信')}" in notified
    assert "incident_manager user Incident manager" in notified
    # nested changes: only the leaves that changed, old → new
    assert f"{outcome}: {in_english(app, '移交')} → {in_english(app, '已解决')}" in handled
    assert f"{in_english(app, '解决方案细节')}: — → 修复了接口配置" in handled
    assert in_english(app, "二线小组") not in handled  # unchanged (empty before and after)
    assert "2026-03-03 04:13:00 first_line user First line" in handled
    assert f"{in_english(app, '问题是否已解决')}: — → yes" in confirmed and "requester user Requester" in confirmed
    assert "service_desk user Service desk" in closed

    classified = by_kind["classified"][0]
    for part in ("Level: Minor", "Impact: General", "Urgency: Medium", "Emergency: no",
                 "Deadline: 2026-03-03 09:00:00", "轻微：当次故障累计投诉 ≥ 20 单"):  # fmt: skip
        assert part in classified
    reclassified = by_kind["reclassified"][0]
    for part in ("first_line user First line Re-classified", "Rules: E3", "Level: Minor → Yellow",
                 "Impact: General → General", "Deadline: 2026-03-03 09:00:00 → 2026-03-03 09:00:00",
                 "Source: facts added by a handler", "Note: 客户投诉到副总",
                 "E3 投诉至副总及以上：升一级（轻微 → 黄色）"):  # fmt: skip
        assert part in reclassified
    assert "Assignee: — → first_line user" in by_kind["task_claimed"][0]
    assert "Handed to: Initial support" in by_kind["dispatched"][0]
    assert "Handed to: First line" in by_kind["dispatched"][1]
    warning = by_kind["deadline_warning"][0]
    assert "2026-03-03 04:13:00 System System Deadline warning" in warning
    assert "Deadline: 2026-03-03 09:00:00" in warning and "Level: Yellow" in warning
    assert "Resolution type: Resolved" in by_kind["resolved"][0] and "Details: 修复了接口配置" in by_kind["resolved"][0]
    assert "Closure code: Resolved" in by_kind["closed"][0]
    (withdrawn,) = by_kind["task_withdrawn"]  # the warning follow-up, when the first line resolved it
    assert "System System Task withdrawn" in withdrawn and "The process withdrew this task" in withdrawn
    assert in_english(app, "跟进即将超时事件") in withdrawn and "Assignee: —" in withdrawn
    # the fired timer is highlighted
    warning_row = re.search(r'<tr id="row-\d+" data-row="\d+" data-kind="deadline_warning"\s+class="([^"]*)"', page)
    assert "audit-timer audit-deadline_warning" in warning_row.group(1)
    assert page.count("audit-timer") == 1 + page.count(".audit-timer")  # one row, the rest is the stylesheet


def test_history_of_a_breached_request_highlights_both_timers(story, auditor):
    page = auditor.get(f"/audit/incidents/{story.roaming}").get_data(as_text=True)
    kinds = [kind for _, kind, _ in history_rows(page)]
    assert kinds == ["started", "task_completed", "classified", "dispatched", "deadline_warning", "deadline_breach"]
    assert re.search(r'data-kind="deadline_breach"\s+class="audit-timer audit-deadline_breach', page)
    breach = history_rows(page)[-1][2]
    assert "2026-03-03 09:13:00 System System Deadline breached" in breach


def test_history_carries_the_diagram_and_the_replay_markers(story, auditor, db):
    page = auditor.get(f"/audit/incidents/{story.billing}").get_data(as_text=True)
    with db.read() as session:
        xml = session.get(Incident, story.billing).process_version.bpmn_xml
    data = replay_data(page)
    assert data["xml"] == xml
    assert data["markers"] == {
        "register_incident": ["completed"],
        "classify_incident": ["completed"],
        "initial_support": ["completed"],
        "case_updated": ["completed"],
        "escalate_incident": ["escalation"],
        "notify_fault": ["completed"],
        "record_deadline_warning": ["completed"],
        "deadline_warning": ["escalation"],
        "first_line_handling": ["completed"],
        "confirm_resolution": ["completed"],
        "close_incident": ["completed"],
        "follow_up_warning": ["withdrawn"],  # when the handling finished, before the manager took it up
    }
    assert data["counts"]["escalate_incident"] == 1 and data["counts"]["deadline_warning"] == 1
    roaming = replay_data(auditor.get(f"/audit/incidents/{story.roaming}").get_data(as_text=True))
    assert roaming["markers"]["initial_support"] == ["current"]
    assert roaming["markers"]["deadline_breach"] == ["escalation"]
    assert roaming["markers"]["follow_up_breach"] == ["current"]
    # the viewer and the replay are files; the only inline script is the JSON data block
    assert '<script src="/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"></script>' in page
    assert '<script src="/static/replay.js"></script>' in page
    for tag in re.findall(r"<script[^>]*>", page):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert 'id="replay-canvas"' in page and "replay-legend" in page


def banner(page: str) -> str:
    start = page.index('data-testid="integrity"')
    return plain(page[start : page.index("</div>", start)])


def whole_check(app):
    """What the timer worker does every AUDIT_VERIFY_SECONDS."""
    with app.app_context():
        return check_and_seal(app.extensions["db"], Path(app.config["AUDIT_CHECKPOINT_DIR"]))


def test_integrity_banner_shows_the_last_whole_check_with_its_time(story, auditor, db, app, clock):
    page = auditor.get("/audit/").get_data(as_text=True)
    assert 'data-testid="integrity" data-ok="unknown"' in page
    assert "The whole log has not been checked yet: the timer worker checks it every 5 minutes" in banner(page)
    history = auditor.get(f"/audit/incidents/{story.billing}").get_data(as_text=True)
    assert 'data-ok="true"' in history and "This incident's chain of rows verifies now." in banner(history)
    result, checkpoint = whole_check(app)
    assert result.ok and checkpoint.number == 1
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent))
    for url in (f"/audit/incidents/{story.billing}", "/audit/"):
        page = auditor.get(url).get_data(as_text=True)
        assert 'data-testid="integrity" data-ok="true"' in page
        text_ = banner(page)
        # 3 incidents, the process, the accounts (signing in)
        assert f"All {total} rows in 5 chains verified at the last whole check." in text_
        assert "Last whole check: 2026-03-03 09:13:00. Chains sealed by checkpoint 1 of 2026-03-03 09:13:00." in text_
        assert ("refuses any change to or deletion of audit rows" in page) == db.is_postgresql
    clock.tick(timedelta(minutes=16))  # three intervals without a check: no worker is running
    page = auditor.get("/audit/").get_data(as_text=True)
    assert "older than it should be: is the timer worker running?" in banner(page)


def test_a_tampered_row_is_named_on_its_history_at_once_and_everywhere_after_the_next_check(story, auditor, db, app):
    whole_check(app)
    with db.read() as session:
        target = session.scalar(
            select(AuditEvent).where(AuditEvent.incident_id == story.billing, AuditEvent.kind == "reclassified")
        )
        last = session.scalar(select(AuditEvent.id).where(AuditEvent.incident_id == story.billing).order_by(
            AuditEvent.id.desc()).limit(1))  # fmt: skip
        before = session.scalar(select(AuditEvent.id).where(AuditEvent.chain == target.chain,
                                                            AuditEvent.seq == target.seq - 1))  # fmt: skip
    tamper = text("UPDATE audit_events SET data = :data WHERE id = :id")
    if db.is_postgresql:  # refused to the app; the table's owner or a superuser can switch the trigger off
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(tamper, {"data": '{"rules":[]}', "id": target.id})
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(tamper, {"data": '{"rules":[]}', "id": target.id})
    # the incident's own history checks its chain now
    page = auditor.get(f"/audit/incidents/{story.billing}").get_data(as_text=True)
    assert f'data-ok="false" data-broken-at="{target.id}"' in page
    text_ = banner(page)
    assert f"Audit log broken at row {target.id}: its content does not match its hash." in text_
    assert f"From there on the history of {number(story.billing)} cannot be trusted." in text_
    rows = {row: row_text for row, _, row_text in history_rows(page)}
    assert "This row does not verify." in rows[target.id]
    assert "After the broken row: not verified." in rows[last]
    assert "does not verify" not in rows[before] and "not verified" not in rows[before]
    # the search page shows the last whole check, never re-hashing the log itself …
    assert 'data-ok="true"' in auditor.get("/audit/").get_data(as_text=True)
    # … until the worker's next check finds it
    result, _ = whole_check(app)
    assert not result.ok
    for url in ("/audit/", f"/audit/incidents/{story.roaming}"):
        page = auditor.get(url).get_data(as_text=True)
        assert f'data-ok="false" data-broken-at="{target.id}"' in page
        assert f"Audit log broken at row {target.id}: its content does not match its hash." in banner(page)
        assert f'href="/audit/incidents/{story.billing}#row-{target.id}"' in page


# ------------------------------------------------------------------------------------------ exports


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_instance_list_exports_follow_the_filters(story, auditor):
    response = auditor.get("/audit/export.csv?breached=1")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="incidents-')
    rows = read_csv(response)
    assert len(rows) == 1
    row = rows[0]
    assert (row["Number"], row["Title"], row["Type"], row["Status"]) == (
        number(story.roaming), "开通国际漫游", "Request", "In handling")  # fmt: skip
    assert (row["Breached"], row["Emergency"], row["Registered"]) == ("yes", "no", "2026-03-02 09:00:00")
    assert list(rows[0])[:4] == ["Number", "Title", "System", "Type"]

    document = json.loads(auditor.get("/audit/export.json?status=closed").get_data(as_text=True))
    assert document["filters"] == {"status": "closed"} and document["count"] == 2
    assert [item["number"] for item in document["incidents"]] == [number(story.question), number(story.billing)]
    billing = document["incidents"][1]
    assert (billing["type"], billing["level"], billing["closure_code"]) == ("fault", "yellow", "resolved")
    assert billing["registered_at"] == "2026-03-02T01:00:00+00:00" and billing["process_version"] == 1
    assert document["incidents"][0]["system"] == "计费系统"


def test_history_exports_carry_every_row_and_re_verify(story, auditor, db):
    with db.read() as session:
        events = audit.events_of(session, story.billing)
    response = auditor.get(f"/audit/incidents/{story.billing}/history.json")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{number(story.billing)}-history.json"'
    document = json.loads(response.get_data(as_text=True))
    assert document["incident"]["number"] == number(story.billing)
    assert document["chain"] == {"name": f"incident:{story.billing}", "verified": True, "rows": len(events),
                                 "broken_at": None, "reason": None}  # fmt: skip
    assert document["log"]["state"] == "unchecked"  # no whole check has run yet
    assert [record["seq"] for record in document["events"]] == list(range(1, len(events) + 1))
    assert document["events"][0]["prev_hash"] == "0" * 64  # the incident's chain starts with its first row
    assert [record["id"] for record in document["events"]] == [event.id for event in events]
    for record, event in zip(document["events"], events, strict=True):
        assert (record["hash"], record["prev_hash"]) == (event.hash, event.prev_hash)
        assert record_mac(AUDIT_KEY.encode(), record) == event.hash  # whoever holds the key can re-compute it
        assert record["data"] == audit.data_of(event) and record["data_canonical"] == event.data

    rows = read_csv(auditor.get(f"/audit/incidents/{story.billing}/history.csv"))
    assert [(int(row["Row"]), row["Event code"], row["Hash"]) for row in rows] == [
        (event.id, event.kind, event.hash) for event in events
    ]
    reclassified = next(row for row in rows if row["Event code"] == "reclassified")
    assert reclassified["Event"] == "Re-classified" and reclassified["Actor"] == "first_line user"
    assert "Level: Minor → Yellow" in reclassified["What changed"].splitlines()
    assert reclassified["Time"] == "2026-03-02 09:00:00" and reclassified["Role"] == "First line"


# ------------------------------------------------------------------------------------------ access


def test_only_auditors_open_audit_routes_and_nothing_is_posted(app, story, as_role, web):
    urls = [route.format(id=story.billing) for route in AUDIT_ROUTES]
    for role in ("requester", "service_desk", "first_line", "second_line_dev", "second_line_test", "second_line_is",
                 "incident_manager", "leadership", "process_owner", "admin"):  # fmt: skip
        client = as_role(role)
        assert [client.get(url).status_code for url in urls] == [403] * len(urls), role
    assert all(web.get(url).status_code == 302 for url in urls)  # signed out: to the sign-in page
    auditor = as_role("auditor")
    assert [auditor.get(url).status_code for url in urls] == [200] * len(urls)
    assert auditor.get("/audit/incidents/999999").status_code == 404
    assert auditor.post("/audit/", {}).status_code == 405
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]
    assert len(rules) == len(AUDIT_ROUTES)
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
        assert app.view_functions[rule.endpoint].required_roles == ("auditor",)


def test_the_instance_export_streams_its_rows_in_chunks(story, auditor, monkeypatch):
    """The header leaves before any row is read; the rows follow in chunks, the same text as the
    whole file (docs/bench.md: the export's first byte and memory do not depend on its size)."""
    whole = auditor.get("/audit/export.csv").get_data()
    monkeypatch.setattr(audit_export, "CHUNK_ROWS", 1)
    response = auditor.http.get("/audit/export.csv", buffered=False)
    assert response.is_streamed and response.mimetype == "text/csv"
    chunks = list(response.response)
    header = "\ufeffNumber,Title,System,Type,Level,Impact,Urgency,Emergency,Status,Source,Requester,Registered"
    assert chunks[0].decode("utf-8").startswith(header) and chunks[0].count(b"\r\n") == 1
    assert len(chunks) == 1 + 3 and b"".join(chunks) == whole  # one chunk per incident of the story
    assert [row["Number"] for row in read_csv(auditor.get("/audit/export.csv"))] == [
        number(story.question), number(story.roaming), number(story.billing)]  # fmt: skip


def test_the_person_suggestions_are_the_staff_not_every_requester(story, auditor, actors):
    page = auditor.get("/audit/").get_data(as_text=True)
    suggested = re.findall(r'<option value="([^"]*)">', page[page.index('<datalist id="audit-people">') :])
    assert actors["first_line"].name in suggested and actors["auditor"].name in suggested
    assert actors["requester"].name not in suggested  # still found when typed: the search reads every account
    typed = auditor.get("/audit/?person=" + actors["requester"].name).get_data(as_text=True)
    assert number(story.billing) in typed and number(story.roaming) not in typed  # they confirmed billing only
