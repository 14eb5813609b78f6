"""Auditors and process owners, in the browser: the history of a closed incident with its diagram
replay; a relabelled task published as a new version; unsafe diagrams refused without running anything."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app import audit
from app.models import Incident, ProcessVersion
from app.process.models import ProcessDraft
from app.tallies import service as tallies
from tests.browser.steps import (
    close,
    confirm,
    inbox_row,
    open_from_inbox,
    open_from_incident,
    open_task_names,
    pass_on,
    register,
    resolve,
)
from tests.driver import number

BUNDLED = Path(__file__).resolve().parents[2] / "processes" / "incident_management.bpmn"
DRAFT_URL = re.compile(r"/process/drafts/(\d+)$")
VERSION_URL = re.compile(r"/process/versions/\d+$")


def _version_count(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(ProcessVersion))


# ============================================================================================ auditor


def test_auditor_reads_the_history_of_a_closed_incident(open_as, live_server, db, actors):
    desk = open_as("service_desk")
    incident_id = register(desk, live_server, "话费查询结果错误", requester_id=actors["requester"].user_id)
    open_from_inbox(desk, live_server, incident_id, "初始支持")
    pass_on(desk, "first_line")
    first_line = open_as("first_line")
    open_from_inbox(first_line, live_server, incident_id, "一线尝试解决")
    resolve(first_line, "修正话费查询缓存")
    requester = open_as("requester")
    open_from_incident(requester, live_server, incident_id, "确认解决结果")
    confirm(requester, resolved=True)
    open_from_inbox(desk, live_server, incident_id, "关闭事件")
    close(desk)

    with db.read() as session:
        assert session.get(Incident, incident_id).status == "closed"
        events = audit.events_of(session, incident_id)
        kinds = [event.kind for event in events]
        completed = [audit.data_of(e).get("spec_id") for e in events if e.kind == "task_completed"]
    # every step in order: registration, classification, hand-over, completions, resolution, confirmation, closure
    assert completed == ["register_incident", "initial_support", "first_line_handling", "confirm_resolution",
                         "close_incident"]  # fmt: skip
    steps = iter(kinds)
    assert all(kind in steps for kind in ("classified", "dispatched", "resolved", "closed")), kinds

    auditor = open_as("auditor")
    auditor.goto(f"{live_server}/audit/")
    auditor.get_by_test_id("audit-filters").locator('input[name="q"]').fill(number(incident_id))
    auditor.get_by_test_id("audit-filters").locator("button.primary").click()
    results = auditor.get_by_test_id("audit-results").locator("tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-incident", str(incident_id))
    expect(results.first.locator(".badge.status-closed")).to_be_visible()
    results.first.get_by_role("link", name=number(incident_id)).click()
    auditor.wait_for_url(re.compile(rf"/audit/incidents/{incident_id}$"))

    # the full timeline, in the order of the audit log
    rows = auditor.get_by_test_id("audit-history").locator("tbody tr")
    expect(rows).to_have_count(len(events))
    assert [rows.nth(i).get_attribute("data-kind") for i in range(len(events))] == kinds
    assert [int(rows.nth(i).get_attribute("data-row")) for i in range(len(events))] == [e.id for e in events]

    # the chain verifies
    banner = auditor.get_by_test_id("integrity")
    expect(banner).to_have_attribute("data-ok", "true")
    expect(banner).to_have_class(re.compile(r"\bflash-success\b"))

    # the diagram of the version is drawn, with the completed path marked
    canvas = auditor.locator("#replay-canvas")
    expect(canvas).to_have_attribute("data-replay", "drawn")
    expect(canvas.locator(".djs-container svg").first).to_be_visible()

    def shape(element_id: str):
        return canvas.locator(f'g.djs-element[data-element-id="{element_id}"]')

    for element_id in ("register_incident", "initial_support", "first_line_handling", "second_line_handling",
                       "confirm_resolution", "close_incident", "classify_incident"):  # fmt: skip
        expect(shape(element_id)).to_have_count(1)
    for spec_id in completed:
        expect(shape(spec_id)).to_have_class(re.compile(r"\breplay-completed\b"))
    expect(shape("classify_incident")).to_have_class(re.compile(r"\breplay-completed\b"))
    # a step not taken is not marked, and a closed incident has no current task
    expect(shape("second_line_handling")).not_to_have_class(re.compile(r"\breplay-completed\b"))
    expect(canvas.locator("g.djs-element.replay-current")).to_have_count(0)


# ============================================================================================ process owner


def _new_draft(owner: Page, base: str) -> int:
    owner.goto(f"{base}/process/")
    owner.locator('form[action$="/process/drafts"] button.primary').click()
    owner.wait_for_url(DRAFT_URL)
    expect(owner.locator(".flash-success")).to_be_visible()
    return int(DRAFT_URL.search(owner.url).group(1))


def _upload(owner: Page, base: str, draft_id: int, path: Path) -> None:
    """Upload a diagram file into the draft from its page."""
    if not owner.url.endswith(f"/process/drafts/{draft_id}"):
        owner.goto(f"{base}/process/drafts/{draft_id}")
    owner.locator("#upload-file").set_input_files(str(path))
    owner.locator('form[action$="/upload"] button[type="submit"]').click()
    owner.wait_for_load_state()


def _publish_form(owner: Page):
    return owner.locator("form[data-confirm]").filter(has=owner.locator('textarea[name="comment"]'))


def test_process_owner_relabels_a_task_and_publishes(open_as, live_server, db, tmp_path):
    desk = open_as("service_desk")
    older = register(desk, live_server, "旧版本上的事件")
    expect(open_task_names(desk)).to_have_text(["初始支持"])

    owner = open_as("process_owner")
    draft_id = _new_draft(owner, live_server)
    relabelled = tmp_path / "relabelled.bpmn"
    text = BUNDLED.read_text(encoding="utf-8")
    assert 'name="初始支持"' in text
    relabelled.write_text(text.replace('name="初始支持"', 'name="初始支持（运维）"'), encoding="utf-8")
    _upload(owner, live_server, draft_id, relabelled)
    expect(owner.locator(".flash-success")).to_be_visible()
    check = owner.get_by_test_id("check")
    expect(check.locator("[data-problem-ok]")).to_be_visible()
    expect(check.get_by_test_id("problems").locator("li")).to_have_count(0)

    owner.locator(f'a[href$="/process/drafts/{draft_id}/publish"]').click()
    diff = owner.get_by_test_id("diff-elements")
    changed = diff.locator('tr[data-change="changed"][data-element-id="initial_support"]')
    expect(changed).to_have_count(1)
    expect(changed.locator("ins")).to_have_text("初始支持（运维）")
    expect(changed.locator("del")).to_have_text("初始支持")
    expect(diff.locator('tr[data-change="added"], tr[data-change="removed"]')).to_have_count(0)
    expect(owner.get_by_test_id("no-form-changes")).to_be_visible()

    owner.fill("#comment", "初始支持改名为初始支持（运维）")
    owner.once("dialog", lambda dialog: dialog.accept())
    _publish_form(owner).locator("button.primary").click()
    owner.wait_for_url(VERSION_URL)
    expect(owner.locator(".flash-success")).to_be_visible()
    tallies.count(db)  # what the timer worker does every TALLY_SECONDS
    owner.goto(f"{live_server}/process/")
    version_2 = owner.get_by_test_id("versions").locator('tr[data-version="2"]')
    expect(version_2).to_contain_text("初始支持改名为初始支持（运维）")
    expect(version_2.locator(".badge.current")).to_be_visible()
    # the running incidents as last counted, and when: the older incident still runs on version 1
    expect(owner.get_by_test_id("counted-at")).to_contain_text("进行中的事件统计于")
    expect(version_2.get_by_test_id("running")).to_have_text("0")
    expect(owner.locator('tr[data-version="1"]').get_by_test_id("running")).to_have_text("1")
    assert _version_count(db) == 2

    newer = register(desk, live_server, "新版本上的事件")
    expect(open_task_names(desk)).to_have_text(["初始支持（运维）"])
    desk.goto(f"{live_server}/inbox")
    expect(inbox_row(desk, newer).get_by_role("link", name="初始支持（运维）", exact=True)).to_be_visible()
    expect(inbox_row(desk, older).get_by_role("link", name="初始支持", exact=True)).to_be_visible()
    expect(inbox_row(desk, older)).not_to_contain_text("运维")
    desk.goto(f"{live_server}/incidents/{older}")
    expect(open_task_names(desk)).to_have_text(["初始支持"])
    with db.read() as session:
        version_of = {i.id: i.process_version.version for i in session.scalars(select(Incident))}
    assert version_of == {older: 1, newer: 2}


def test_process_owner_dry_runs_a_draft_and_moves_a_running_incident(open_as, live_server, db, tmp_path):
    desk = open_as("service_desk")
    older = register(desk, live_server, "迁移前的事件")
    owner = open_as("process_owner")
    draft_id = _new_draft(owner, live_server)
    relabelled = tmp_path / "relabelled.bpmn"
    relabelled.write_text(BUNDLED.read_text(encoding="utf-8").replace('name="初始支持"', 'name="初始支持（运维）"'))
    _upload(owner, live_server, draft_id, relabelled)

    owner.locator(f'a[href$="/process/drafts/{draft_id}/dryrun"]').click()
    stories = owner.get_by_test_id("dry-run-stories").locator("tbody tr")
    expect(stories).to_have_count(10)
    expect(stories.locator('[data-reached="false"]')).to_have_count(0)
    expect(owner.locator('tr[data-reached="true"]')).to_have_count(10)
    expect(owner.get_by_test_id("dry-run-summary")).to_contain_text("10")

    owner.locator(f'a[href$="/process/drafts/{draft_id}/publish"]').click()
    expect(owner.get_by_test_id("publish-dry-run")).to_contain_text("10")
    owner.fill("#comment", "初始支持改名")
    owner.once("dialog", lambda dialog: dialog.accept())
    _publish_form(owner).locator("button.primary").click()
    owner.wait_for_url(VERSION_URL)

    owner.get_by_test_id("migrate-link").click()
    row = owner.get_by_test_id("migration-preview").locator(f'tr[data-incident="{older}"]')
    expect(row).to_have_attribute("data-can-move", "true")
    expect(row).to_contain_text("初始支持（运维）")
    row.get_by_role("button").click()
    expect(owner.locator(".flash-success")).to_be_visible()
    expect(owner.get_by_test_id("nothing-to-move")).to_be_visible()

    desk.goto(f"{live_server}/incidents/{older}")
    expect(open_task_names(desk)).to_have_text(["初始支持（运维）"])
    expect(desk.get_by_test_id("migrated")).to_contain_text("1 → 2")
    with db.read() as session:
        assert session.get(Incident, older).process_version.version == 2


def _assert_publish_refused(owner: Page, live_server: str, draft_id: int, db) -> None:
    """The publish button is disabled; a publication forced past it is refused by the server."""
    owner.goto(f"{live_server}/process/drafts/{draft_id}/publish")
    form = _publish_form(owner)
    expect(form.locator("button.primary")).to_be_disabled()
    form.locator('textarea[name="comment"]').fill("试图发布")
    form.locator("button.primary").evaluate("button => button.removeAttribute('disabled')")
    owner.once("dialog", lambda dialog: dialog.accept())
    with owner.expect_response(lambda r: r.request.method == "POST" and "/publish" in r.url) as answer:
        form.locator("button.primary").click()
    assert answer.value.status == 422
    expect(owner.get_by_test_id("refused")).to_be_visible()
    assert _version_count(db) == 1


def test_unsafe_diagrams_are_rejected_and_nothing_runs(open_as, live_server, db, tmp_path):
    bundled = BUNDLED.read_text(encoding="utf-8")
    owner = open_as("process_owner")
    draft_id = _new_draft(owner, live_server)
    problems = owner.get_by_test_id("check").get_by_test_id("problems")

    # (a) a script task
    script = tmp_path / "script.bpmn"
    evil = '<bpmn:scriptTask id="evil" name="x"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
    assert bundled.count("</bpmn:process>") == 1
    script.write_text(bundled.replace("</bpmn:process>", f"{evil}\n  </bpmn:process>"), encoding="utf-8")
    _upload(owner, live_server, draft_id, script)
    flagged = problems.locator('li[data-element-id="evil"]')
    expect(flagged.first).to_be_visible()
    expect(flagged.filter(has_text=re.compile("script|脚本", re.IGNORECASE))).to_have_count(1)
    _assert_publish_refused(owner, live_server, draft_id, db)

    # (b) code in a gateway condition: checked, never evaluated
    marker = tmp_path / "pwned-by-condition"
    condition = tmp_path / "condition.bpmn"
    original = 'dispatch["stage"] == "first_line"'
    assert bundled.count(original) == 1
    injected = f'__import__("os").system("touch {marker}")'
    condition.write_text(bundled.replace(original, injected), encoding="utf-8")
    _upload(owner, live_server, draft_id, condition)
    flagged = problems.locator('li[data-element-id="f_route_first"]')
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("system")
    expect(owner.locator('#diagram g.djs-element.has-problem[data-element-id="f_route_first"]')).to_have_count(1)
    assert not marker.exists()
    _assert_publish_refused(owner, live_server, draft_id, db)
    expect(owner.get_by_test_id("problems").locator('li[data-element-id="f_route_first"]')).to_have_count(1)
    assert not marker.exists()

    # (c) XXE: refused before parsing, the file's content never shown
    xxe = tmp_path / "xxe.bpmn"
    declaration, rest = bundled.split("\n", 1)
    assert declaration.startswith("<?xml")
    doctype = '<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    body = rest.replace('name="初始支持"', 'name="&xxe;"', 1)
    xxe.write_text(f"{declaration}\n{doctype}\n{body}", encoding="utf-8")
    with owner.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/upload")) as answer:
        _upload(owner, live_server, draft_id, xxe)
    assert answer.value.status == 422
    expect(owner.get_by_test_id("upload-error")).to_contain_text("DOCTYPE")
    assert "root:" not in owner.content()
    with db.read() as session:
        stored = session.get(ProcessDraft, draft_id).bpmn_xml
    assert "DOCTYPE" not in stored and "xxe" not in stored  # the draft keeps its previous diagram
    _assert_publish_refused(owner, live_server, draft_id, db)
    assert "root:" not in owner.content()
    assert _version_count(db) == 1
