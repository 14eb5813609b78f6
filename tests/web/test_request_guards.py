"""What every request may carry (app/web/inputs.py) and what every response says about itself
(app/web/security.py): control characters, sizes, depths, dates, ids and redirect targets answer a
clear 4xx and change nothing; pages carry a content-security policy, refuse framing, and are never
cached (docs/security.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Incident
from tests.driver import registration

CONTROL = "控制字符"  # in the Chinese explanation of a refused control character
REGISTRATION = {
    "incident.title": "账务模块报错",
    "incident.description": "出账时报空指针",
    "incident.source": "monitoring",
    "facts.type": "consultation",
}
TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def audit_rows(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def task(desk):
    incident_id = desk.register(registration(complaints=20))
    return incident_id, desk.task(incident_id, "initial_support")


def test_a_nul_byte_in_a_task_form_is_refused_and_the_reports_keep_working(desk, db, as_role, task):
    incident_id, open_task = task
    client = as_role("service_desk")
    rows = audit_rows(db)
    form = {"spec_id": "initial_support", "handling.outcome": "resolved", "handling.solution_kind": "resolved",
            "handling.solution": "重启\x00了进程", "handling.notes": "第一行\r\n第二行\t缩进"}  # fmt: skip
    response = client.post(f"/tasks/{incident_id}/{open_task.id}", form)
    assert response.status_code == 400 and CONTROL in response.get_data(as_text=True)
    assert audit_rows(db) == rows and desk.open_specs(incident_id) == ["initial_support"]  # nothing written

    form["handling.solution"] = "重启了进程"  # tab, CR and LF stay allowed in text
    assert client.post(f"/tasks/{incident_id}/{open_task.id}", form).status_code == 302
    manager = as_role("incident_manager")
    assert manager.get("/reports/").status_code == 200
    assert manager.get("/reports/breaches.csv").status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/incidents/?q=%00", None),
        ("get", "/incidents/?status=open&status=%00", None),  # the second value of a field too
        ("get", "/incidents/?q=a%1Bb", None),
        ("get", "/incidents/?q%00=x", None),
        ("get", "/audit/?person=%0D%0A", None),
        ("post", "/login", {"username": "admin\x00", "password": "x"}),
        ("post", "/login", {"username": "admin", "password": "\x07"}),
        ("get", "/tasks/1/ab%00cd", None),
    ],
)
def test_control_characters_are_refused_everywhere_with_a_clear_message(as_role, url, method, data):
    client = as_role("auditor")
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == 400
    assert CONTROL in response.get_data(as_text=True)


def test_json_bodies_are_checked_too(as_role, db):
    owner = as_role("process_owner")
    draft_id = int(owner.post("/process/drafts").location.rsplit("/", 1)[1])
    url = f"/process/drafts/{draft_id}/diagram"
    headers = {"X-CSRF-Token": owner.token, "Content-Type": "application/json"}
    bodies = [
        json.dumps({"bpmn_xml": "<x>\u0000</x>", "lock_version": 1}),
        '{"bpmn_xml": "\\ud800", "lock_version": 1}',  # a lone surrogate cannot be stored either
        '{"bpmn_xml": ' + "[" * 1000 + "]" * 1000 + ', "lock_version": 1}',  # nested 1,000 deep
    ]
    for body in bodies:
        response = owner.http.post(url, data=body, headers=headers)
        assert response.status_code == 400, body[:40]
        assert response.get_json()["ok"] is False and response.get_json()["error"]


def test_a_large_body_is_refused_before_it_is_read(web, actors):
    web.get("/login")
    response = web.post("/login", {"username": "admin", "password": "x" * 2_000_000})
    assert response.status_code == 413


def test_impossible_dates_are_field_errors_not_failures(as_role):
    desk = as_role("service_desk")
    for typed in ("2026-13-45T99:99", "0001-01-01T00:00", "9999-12-31T23:59"):
        response = desk.post("/incidents/new", {**REGISTRATION, "incident.occurred_at": typed})
        assert response.status_code == 422, typed
        assert typed in response.get_data(as_text=True)  # shown again as typed, marked
    auditor = as_role("auditor")
    for typed in ("0001-01-01", "9999-12-31", "2026-02-30"):
        page = auditor.get(f"/audit/?from={typed}&to={typed}")
        assert page.status_code == 200 and "2026-03-02" in page.get_data(as_text=True), typed  # the hint


def test_odd_ids_and_missing_incidents_answer_4xx(desk, as_role, task, db):
    incident_id, open_task = task
    handler = as_role("service_desk")
    assert handler.post("/incidents/999999/facts", {"update.note": ""}).status_code == 404
    assert handler.get(f"/incidents/{2**31}").status_code == 404
    too_big = {"requester_id": str(2**31), "incident.title": "x", "facts.type": "consultation"}
    page = handler.post("/incidents/new", too_big)
    assert page.status_code == 422 and "请选择具有事件提出人角色的人员" in page.get_data(as_text=True)
    response = handler.post(f"/tasks/{incident_id}/{open_task.id}/assign", {"assignee": "99999999999"})
    assert response.status_code == 302
    assert as_role("process_owner").post("/process/drafts", {"version_id": str(2**40)}).status_code == 404
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1


@pytest.mark.parametrize("target", ["/inbox\r\nSet-Cookie: x=1", "//evil.example/", "/\\evil.example", "https://x"])
def test_sign_in_never_redirects_off_the_site_or_breaks_on_next(web, actors, target):
    web.get("/login")
    response = web.post("/login", {"username": "first_line", "password": "password123", "next": target})
    assert response.status_code == 302 and response.location == "/"


def test_only_someone_with_the_requester_role_can_be_made_requester(desk, as_role, actors):
    client = as_role("service_desk")
    form = {"requester_id": str(actors["auditor"].user_id), **REGISTRATION}
    page = client.post("/incidents/new", form)
    assert page.status_code == 422 and "请选择具有事件提出人角色的人员" in page.get_data(as_text=True)
    form["requester_id"] = str(actors["requester"].user_id)
    assert client.post("/incidents/new", form).status_code == 302


def test_pages_carry_a_content_security_policy_refuse_framing_and_are_not_cached(as_role, task):
    incident_id, _open_task = task
    manager, admin = as_role("incident_manager"), as_role("admin")
    pages = [(manager, "/login"), (manager, f"/incidents/{incident_id}"), (manager, "/reports/breaches.csv"),
             (admin, "/admin/users/new")]  # fmt: skip
    for client, url in pages:
        headers = client.get(url).headers
        policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'", url
        assert policy["object-src"] == "'none'" and "unsafe" not in policy["default-src"]
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store", url
    assert "no-store" not in manager.get("/static/app.css").headers.get("Cache-Control", "")


def test_no_template_has_inline_script():
    """The policy allows no inline script: every <script> loads a file or is a JSON data block."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{path.name}: {tag}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path.name} has an inline event handler"
        assert "javascript:" not in text, path.name
