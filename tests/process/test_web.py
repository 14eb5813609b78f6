"""The process owner's pages: versions, drafts (upload, modeler save, forms), checking, the diff, and publishing a
version that new incidents use while running incidents keep theirs. Nothing in an uploaded diagram runs."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from app import audit
from app.audit import SYSTEM
from app.engine.model import BPMN_NS, NS
from app.models import AuditEvent, Incident, OpenTask, ProcessVersion
from app.process import drafts, versions
from app.process.models import ProcessDraft
from app.process.validation import MAX_BPMN_BYTES
from app.process.versions import BUNDLED_DIAGRAM
from app.tallies import service as tallies
from app.users import ROLES
from tests.driver import pass_on, registration
from tests.engine.bpmn_edit import variant

XML = BUNDLED_DIAGRAM.read_text(encoding="utf-8")
RELABELLED = XML.replace('name="初始支持"', 'name="初始支持（运维）"')
LOCK = re.compile(r'name="lock_version" value="(\d+)"')
DIAGRAM_DATA = re.compile(r'<script type="application/json" id="diagram-data">(.*?)</script>', re.S)


def text(response) -> str:
    return response.get_data(as_text=True)


def new_draft(client) -> int:
    response = client.post("/process/drafts")
    assert response.status_code == 302, text(response)
    return int(re.search(r"/process/drafts/(\d+)$", response.location).group(1))


def lock_of(client, draft_id: int) -> str:
    return LOCK.search(text(client.get(f"/process/drafts/{draft_id}"))).group(1)


def upload(client, draft_id: int, data: bytes, name: str = "diagram.bpmn", lock: str | None = None):
    lock = lock or lock_of(client, draft_id)
    return client.post(
        f"/process/drafts/{draft_id}/upload",
        {"file": (io.BytesIO(data), name), "lock_version": lock},
        content_type="multipart/form-data",
    )


def diagram_data(page: str) -> dict:
    return json.loads(DIAGRAM_DATA.search(page).group(1))


def stored(db, draft_id: int) -> ProcessDraft:
    with db.read() as session:
        return session.get(ProcessDraft, draft_id)


def published_versions(db) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(ProcessVersion.version).order_by(ProcessVersion.id)))


def open_task_names(db, incident_id: int) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(OpenTask.name).where(OpenTask.incident_id == incident_id)))


def as_script_task(root) -> None:
    """record_solution_details becomes a script task, in the flow where the service task was."""
    (task,) = root.xpath("//bpmn:serviceTask[@id='record_solution_details']", namespaces=NS)
    task.tag = f"{{{BPMN_NS}}}scriptTask"
    task.set("scriptFormat", "python")
    task.remove(task.find("bpmn:extensionElements", NS))
    etree.SubElement(task, f"{{{BPMN_NS}}}script").text = "incident = None"


@pytest.fixture
def owner(as_role):
    """The process owner's client, reading the pages in English (the messages are asserted in English)."""
    client = as_role("process_owner")
    assert client.post("/language", {"locale": "en", "next": "/process/"}).status_code == 302
    return client


def test_the_versions_page_lists_version_1(owner, db):
    page = text(owner.get("/process/"))
    assert 'data-version="1"' in page and "初始版本" in page
    with db.read() as session:
        version = session.scalars(select(ProcessVersion)).one()
    assert version.content_hash[:12] in page and version.published_by == "system"
    assert re.search(r'data-version="1".*?<td>System</td>', owner.get("/process/").get_data(as_text=True), re.S)
    shown = owner.get(f"/process/versions/{version.id}")
    assert shown.status_code == 200
    page = text(shown)
    assert diagram_data(page)["xml"] == version.bpmn_xml  # the viewer gets the diagram as JSON data
    assert "initial_support.schema.json" in page and "bpmn-navigated-viewer.production.min.js" in page
    assert "<script>" not in page  # no inline code
    download = owner.get(f"/process/versions/{version.id}/download")
    assert download.status_code == 200 and download.get_data(as_text=True) == version.bpmn_xml
    assert (
        "attachment" in download.headers["Content-Disposition"] and ".bpmn" in download.headers["Content-Disposition"]
    )


def running_cells(page: str) -> dict[str, str]:
    """Version number → what its "Running incidents" cell says."""
    cells = re.findall(r'<tr data-version="(\d+)">.*?<td data-testid="running">(.*?)</td>', page, re.S)
    return {number: re.sub(r"<[^>]+>", "", cell).strip() for number, cell in cells}


def test_the_running_incidents_are_those_of_the_last_count_and_say_when_it_was_made(owner, desk, db, clock, app):
    with db.read() as session:
        v1 = versions.latest(session)
    page = text(owner.get("/process/"))
    assert "Running incidents not counted yet: the timer worker counts them every 1 minutes." in page
    assert running_cells(page) == {"1": "not counted yet"}  # not 0: nobody counted
    desk.register(registration(complaints=20))
    desk.register(registration("consultation", solved=True))  # closed on the spot: not running
    clock.move_to("2026-03-02T02:00:00+00:00")  # 10:00 in Shanghai
    tallies.PeriodicTally(db, app.config["TALLY_SECONDS"])()  # the timer worker's job
    with db.transaction() as session:  # published and started on after the count
        v2, _ = versions.publish(session, RELABELLED, drafts.forms_of(versions.latest(session)), SYSTEM, "relabel")
    desk.register(registration())
    page = text(owner.get("/process/"))
    assert "Running incidents counted at 2026-03-02 10:00; counted again every 1 minutes." in page
    assert running_cells(page) == {"2": "not counted yet", "1": "1"}
    version_page = text(owner.get(f"/process/versions/{v2.id}"))
    assert "not counted yet" in version_page and "counted at 2026-03-02 10:00" in version_page

    clock.tick(timedelta(seconds=app.config["TALLY_SECONDS"]))
    tallies.PeriodicTally(db, app.config["TALLY_SECONDS"])()
    page = text(owner.get("/process/"))
    assert "Running incidents counted at 2026-03-02 10:01" in page and running_cells(page) == {"2": "1", "1": "1"}
    shown = text(owner.get(f"/process/versions/{v1.id}"))
    assert re.search(r'data-testid="running">1\s*<p[^>]*>Running incidents counted at 2026-03-02 10:01', shown)


def test_publishing_a_relabelled_diagram_new_incidents_use_it_running_ones_keep_theirs(owner, desk, db):
    draft_id = new_draft(owner)
    with db.read() as session:
        v1 = session.scalars(select(ProcessVersion)).one()
    assert stored(db, draft_id).base_version_id == v1.id

    response = upload(owner, draft_id, RELABELLED.encode(), "relabelled.bpmn")
    assert response.status_code == 302, text(response)
    page = text(owner.get(f"/process/drafts/{draft_id}"))
    assert re.search(r"data-problem-ok\s*>No problems: the draft can be published.", page)  # shown, not hidden
    assert diagram_data(page)["problems"] == [] and "初始支持（运维）" in diagram_data(page)["xml"]

    review = owner.get(f"/process/drafts/{draft_id}/publish")
    assert review.status_code == 200
    page = text(review)
    rows = re.findall(r'<tr data-change="(\w+)" data-element-id="([^"]+)"', page)
    assert sorted(rows) == [("changed", "f_route_initial"), ("changed", "initial_support")]  # exactly the relabel
    # the old label is shown in the reader's language (the content catalog), the new one as written
    assert len(re.findall(r"<del>[^<]+</del> → <ins>初始支持（运维）</ins>", page)) == 2
    assert len(re.findall(r"<li>name: [^<]+ → 初始支持（运维）</li>", page)) == 2  # the details say what changed
    assert 'data-testid="no-form-changes"' in page and 'data-testid="layout"' in page
    assert 'data-layout-changed="false"' in page

    before = desk.register(registration(complaints=20))  # started on version 1
    form = {"lock_version": LOCK.search(page).group(1), "comment": "初始支持改名为初始支持（运维）"}
    response = owner.post(f"/process/drafts/{draft_id}/publish", form)
    assert response.status_code == 302, text(response)
    assert published_versions(db) == [1, 2]
    with db.read() as session:
        v2 = session.scalars(select(ProcessVersion).where(ProcessVersion.version == 2)).one()
    assert response.location.endswith(f"/process/versions/{v2.id}")
    assert (v2.comment, v2.published_by) == ("初始支持改名为初始支持（运维）", "process_owner user")
    draft = stored(db, draft_id)
    assert (draft.status, draft.published_version_id) == ("published", v2.id)

    after = desk.register(registration(complaints=20))
    assert desk.incident(before).process_version_id == v1.id
    assert desk.incident(after).process_version_id == v2.id
    assert open_task_names(db, before) == ["初始支持"]
    assert open_task_names(db, after) == ["初始支持（运维）"]
    desk.complete("service_desk", before, "initial_support", pass_on("first_line"))  # still runs on version 1
    assert desk.open_specs(before) == ["first_line_handling"] and desk.incident(before).process_version_id == v1.id

    page = text(owner.get("/process/"))
    assert page.index('data-version="2"') < page.index('data-version="1"')  # newest first
    # The published draft is kept as the record and can no longer be changed.
    assert upload(owner, draft_id, XML.encode(), lock=str(draft.lock_version)).status_code == 302
    assert stored(db, draft_id).bpmn_xml == RELABELLED
    assert owner.get(f"/process/drafts/{draft_id}/edit").status_code == 302


def test_a_script_task_is_listed_with_its_element_and_publication_is_refused(owner, db):
    draft_id = new_draft(owner)
    assert upload(owner, draft_id, variant(as_script_task)).status_code == 302
    page = text(owner.get(f"/process/drafts/{draft_id}"))
    problems = diagram_data(page)["problems"]
    assert [(p["element_id"], p["message"]) for p in problems if p["element_id"] == "record_solution_details"] == [
        ("record_solution_details", "script tasks are not allowed: put the logic in a service task")
    ]
    assert "Record the solution details" in page  # the element's name, in the reader's language
    assert 'data-element-id="record_solution_details"' in page  # the list links to the element on the diagram
    lock = LOCK.search(text(owner.get(f"/process/drafts/{draft_id}/publish"))).group(1)
    refused = owner.post(f"/process/drafts/{draft_id}/publish", {"lock_version": lock, "comment": "脚本"})
    assert refused.status_code == 422
    page = text(refused)
    assert 'data-testid="refused"' in page and "script tasks are not allowed" in page
    assert published_versions(db) == [1] and stored(db, draft_id).status == "open"


def test_code_in_a_gateway_condition_is_refused_and_never_runs(owner, db):
    marker = Path("/tmp") / f"process-owner-{uuid.uuid4().hex}"
    code = f'__import__("os").system("touch {marker}")'
    xml = XML.replace('dispatch["stage"] == "first_line"', code.replace('"', "&quot;"))
    assert code.replace('"', "&quot;") in xml
    draft_id = new_draft(owner)
    assert upload(owner, draft_id, xml.encode()).status_code == 302
    page = text(owner.get(f"/process/drafts/{draft_id}"))
    assert [p["element_id"] for p in diagram_data(page)["problems"]] == ["f_route_first"]
    page = text(owner.get(f"/process/drafts/{draft_id}/publish"))
    refused = owner.post(
        f"/process/drafts/{draft_id}/publish", {"lock_version": LOCK.search(page).group(1), "comment": "x"}
    )
    assert refused.status_code == 422 and "f_route_first" in text(refused)
    assert published_versions(db) == [1]
    assert not marker.exists()


def test_an_xxe_payload_is_refused_naming_the_doctype(owner, db):
    draft_id = new_draft(owner)
    declaration, rest = XML.split("\n", 1)
    payload = f'{declaration}\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n{rest}'
    payload = payload.replace('name="初始支持"', 'name="&e;"', 1)
    response = upload(owner, draft_id, payload.encode())
    assert response.status_code == 422
    page = text(response)
    assert 'data-testid="upload-error"' in page and "DOCTYPE" in page
    assert "root:" not in page  # /etc/passwd was not read
    assert stored(db, draft_id).bpmn_xml == XML


@pytest.mark.parametrize("size", [MAX_BPMN_BYTES + 1, MAX_BPMN_BYTES + 200_000])
def test_an_oversized_upload_is_refused(owner, as_role, db, size):
    draft_id = new_draft(owner)
    data = XML.encode()
    data += b"<!--" + b"x" * (size - len(data) - 7) + b"-->"
    assert len(data) == size
    response = upload(owner, draft_id, data)
    assert response.status_code in (413, 422)
    assert "larger than 2 MB" in text(response)
    assert stored(db, draft_id).bpmn_xml == XML
    other = as_role("service_desk")  # the body is refused before the role check: no draft page for them
    response = upload(other, draft_id, data, lock="1")
    assert response.status_code in (403, 413) and "diagram-data" not in text(response)


def test_a_file_that_is_not_xml_is_refused_with_a_clear_message(owner, db):
    draft_id = new_draft(owner)
    response = upload(owner, draft_id, "事件,级别\n计费,红\n".encode(), "incidents.csv")
    assert response.status_code == 422
    assert "The file is not XML, so it cannot be a BPMN diagram" in text(response)
    response = upload(owner, draft_id, b"")
    assert response.status_code == 422
    assert stored(db, draft_id).lock_version == 1


def test_invalid_form_json_is_shown_beside_the_form_and_nothing_is_lost(owner, db):
    draft_id = new_draft(owner)
    page = text(owner.get(f"/process/drafts/{draft_id}/forms"))
    referenced = {name for ref in drafts.form_references(XML) for name in (ref.schema_file, ref.ui_file)}
    assert len(referenced) == 22 and page.count('name="form_text"') == 22  # every form a user task references
    broken = '{"type": "object", "properties": {"handling": '
    response = owner.post(
        f"/process/drafts/{draft_id}/forms",
        {
            "lock_version": LOCK.search(page).group(1),
            "form_name": ["initial_support.schema.json", "initial_support.uischema.json"],
            "form_text": [broken, '{"ui:order": ["handling"]}'],
        },
    )
    assert response.status_code == 422
    page = text(response)
    css, block = re.search(
        r'<div class="([^"]*)" data-form-file="initial_support.schema.json">(.*?)</div>', page, re.S
    ).groups()
    assert "has-error" in css and 'data-testid="form-error"' in block and "Not valid JSON" in block
    assert page.count('data-testid="form-error"') == 1
    assert "{&#34;type&#34;: &#34;object&#34;, &#34;properties&#34;: {&#34;handling&#34;: " in block
    assert json.loads(json.loads(stored(db, draft_id).forms_json)["initial_support.uischema.json"]) != {
        "ui:order": ["handling"]
    }
    response = owner.post(
        f"/process/drafts/{draft_id}/forms",
        {
            "lock_version": "1",
            "form_name": ["initial_support.schema.json"],
            "form_text": ['{"type": "string"}'],
        },
    )
    assert response.status_code == 422 and "must describe an object" in text(response)

    form = {"lock_version": "1", "form_name": ["initial_support.uischema.json"]}
    response = owner.post(f"/process/drafts/{draft_id}/forms", {**form, "form_text": ['{"ui:order": ["handling"]}']})
    assert response.status_code == 302
    draft = stored(db, draft_id)
    assert json.loads(json.loads(draft.forms_json)["initial_support.uischema.json"]) == {"ui:order": ["handling"]}
    assert draft.lock_version == 2
    # A second owner still on lock version 1: a clear conflict, and their text stays on the page.
    response = owner.post(
        f"/process/drafts/{draft_id}/forms",
        {
            "lock_version": "1",
            "form_name": ["initial_support.uischema.json"],
            "form_text": ['{"mine": true}'],
        },
    )
    assert response.status_code == 409
    page = text(response)
    assert 'data-testid="conflict"' in page and "process_owner user" in page
    assert "{&#34;mine&#34;: true}" in page
    assert json.loads(json.loads(stored(db, draft_id).forms_json)["initial_support.uischema.json"]) == {
        "ui:order": ["handling"]
    }


def test_the_modeler_saves_over_fetch_and_a_stale_save_is_a_conflict(owner, db):
    draft_id = new_draft(owner)
    page = text(owner.get(f"/process/drafts/{draft_id}/edit"))
    editor = diagram_data(page)
    assert editor["lock_version"] == 1 and editor["save_url"] == f"/process/drafts/{draft_id}/diagram"
    assert "vendor/bpmn-modeler/modeler.js" in page and "process.js" in page
    headers = {"X-CSRF-Token": owner.token}
    bad = XML.replace('name="一线"', 'name="三线"')
    response = owner.http.post(editor["save_url"], json={"bpmn_xml": bad, "lock_version": 1}, headers=headers)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["ok"] and answer["lock_version"] == 2
    assert answer["problems"] == [
        {"element_id": "lane_first_line", "element_name": "三线", "message": answer["problems"][0]["message"]}
    ]
    assert stored(db, draft_id).bpmn_xml == bad

    stale = owner.http.post(editor["save_url"], json={"bpmn_xml": XML, "lock_version": 1}, headers=headers)
    assert stale.status_code == 409
    answer = stale.get_json()
    assert answer["conflict"] and answer["lock_version"] == 2 and "process_owner user" in answer["error"]
    assert stored(db, draft_id).bpmn_xml == bad

    refused = owner.http.post(
        editor["save_url"], json={"bpmn_xml": "<!DOCTYPE x []><x/>", "lock_version": 2}, headers=headers
    )
    assert refused.status_code == 422 and "DOCTYPE" in refused.get_json()["error"]
    malformed = owner.http.post(editor["save_url"], json={"bpmn_xml": XML}, headers=headers)
    assert malformed.status_code == 400


def test_the_modeler_panel_offers_the_drafts_forms_and_the_apps_operations_in_the_readers_language(owner, db):
    draft_id = new_draft(owner)
    editor = diagram_data(text(owner.get(f"/process/drafts/{draft_id}/edit")))
    assert editor["modeler_texts"]["Form"] == "Form" and editor["modeler_texts"]["Create task"] == "Create task"
    assert owner.post("/language", {"locale": "zh", "next": "/process/"}).status_code == 302
    chinese = diagram_data(text(owner.get(f"/process/drafts/{draft_id}/edit")))
    assert chinese["modeler_texts"]["Form"] == "表单" and chinese["modeler_texts"]["Create task"] == "创建任务"
    choices = owner.get(editor["choices_url"]).get_json()
    assert {"register_incident", "initial_support", "confirm_resolution"} <= set(choices["forms"])
    operations = {op["name"]: op for op in choices["operations"]}
    assert operations["classify"]["params"] == ["facts"] and operations["dispatch"]["params"] == ["stage", "group"]

    lock = int(lock_of(owner, draft_id))
    owner.post(  # a schema without its UI schema is not a form the panel offers
        f"/process/drafts/{draft_id}/forms",
        {"form_name": "half.schema.json", "form_text": '{"type": "object"}', "lock_version": str(lock)},
    )
    assert "half" not in owner.get(editor["choices_url"]).get_json()["forms"]
    assert owner.get(f"/process/drafts/{draft_id + 1}/choices").status_code == 404


def test_every_route_is_for_process_owners_only(app, as_role, owner, db):
    draft_id = new_draft(owner)
    with db.read() as session:
        version_id = session.scalars(select(ProcessVersion.id)).first()
    routes = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("process.")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert len(routes) >= 14
    for role in ROLES:
        if role == "process_owner":
            continue
        client = as_role(role)
        for rule, method in routes:
            url = rule.build({"draft_id": draft_id, "version_id": version_id})[1]
            response = client.get(url) if method == "GET" else client.post(url)
            assert response.status_code == 403, (role, method, url)
    assert stored(db, draft_id) is not None and published_versions(db) == [1]


def test_every_post_needs_the_csrf_token(app, owner, db):
    draft_id = new_draft(owner)
    posts = [
        rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("process.") and "POST" in rule.methods
    ]
    assert len(posts) >= 6
    for rule in posts:
        url = rule.build({"draft_id": draft_id, "version_id": 1})[1]
        response = owner.post(url, {"lock_version": "1", "comment": "x"}, csrf=False)
        assert response.status_code == 400, url
    response = owner.http.post(f"/process/drafts/{draft_id}/diagram", json={"bpmn_xml": XML, "lock_version": 1})
    assert response.status_code == 400
    draft = stored(db, draft_id)
    assert (draft.lock_version, draft.status) == (1, "open")
    with db.read() as session:
        assert session.scalars(select(Incident)).first() is None


def test_a_diagram_from_another_tool_gets_every_problem_named_in_the_readers_language(as_role, db):
    """A Camunda Modeler export: not executable, JUEL conditions, candidate groups, an unquoted timer. The process
    owner reads (in Chinese, the default) what each is, on which element, and what to do."""

    def camunda_export(root):
        process_element = root.find("bpmn:process", NS)
        process_element.set("isExecutable", "false")
        root.find(".//bpmn:sequenceFlow[@id='f_onspot_yes']/bpmn:conditionExpression", NS).text = "${solved}"
        task = root.find(".//bpmn:userTask[@id='first_line_handling']", NS)
        task.set("{http://camunda.org/schema/1.0/bpmn}candidateGroups", "ops")
        (timer,) = root.xpath("//*[@id='deadline_warning']//bpmn:timeDate", namespaces=NS)
        timer.text = "PT30M"

    client = as_role("process_owner")  # Chinese
    draft_id = new_draft(client)
    assert upload(client, draft_id, variant(camunda_export)).status_code == 302
    problems = diagram_data(text(client.get(f"/process/drafts/{draft_id}")))["problems"]
    said = {(p["element_id"], p["message"]) for p in problems}
    assert ("incident_management", next(m for e, m in said if e == "incident_management")) in said
    by_element = {element: message for element, message in said}
    assert "isExecutable" in by_element["incident_management"] and "可执行" in by_element["incident_management"]
    assert "JUEL" in by_element["f_onspot_yes"] and "solved" in by_element["f_onspot_yes"]
    assert "Camunda" in by_element["first_line_handling"] and "泳道" in by_element["first_line_handling"]
    assert '"PT30M"' in by_element["deadline_warning"] and "引号" in by_element["deadline_warning"]
    assert all(p["element_id"] for p in problems)  # nothing generic


def test_a_task_drawn_in_a_lane_no_lane_lists_is_said_to_be_in_that_lane(owner, db):
    def unlist(root):
        (ref,) = root.xpath("//bpmn:flowNodeRef[text()='second_line_handling']", namespaces=NS)
        ref.getparent().remove(ref)

    draft_id = new_draft(owner)
    assert upload(owner, draft_id, variant(unlist)).status_code == 302
    page = text(owner.get(f"/process/drafts/{draft_id}"))
    assert diagram_data(page)["problems"] == []
    note = page[page.index('data-testid="drawn-lanes"') :]
    assert "the lane it is drawn in" in note and "second_line_handling" in note and "Second line" in note


def test_a_process_that_is_not_executable_is_marked_executable_with_one_button(owner, db):
    draft_id = new_draft(owner)
    not_executable = XML.replace('isExecutable="true"', 'isExecutable="false"', 1)
    assert upload(owner, draft_id, not_executable.encode()).status_code == 302
    page = text(owner.get(f"/process/drafts/{draft_id}"))
    assert "incident_management" in {p["element_id"] for p in diagram_data(page)["problems"]}
    assert 'data-testid="mark-executable"' in page
    lock = lock_of(owner, draft_id)
    assert owner.post(f"/process/drafts/{draft_id}/executable", {"lock_version": "0"}).status_code == 409
    response = owner.post(f"/process/drafts/{draft_id}/executable", {"lock_version": lock})
    assert response.status_code == 302
    page = text(owner.get(f"/process/drafts/{draft_id}"))
    assert diagram_data(page)["problems"] == [] and 'data-testid="mark-executable"' not in page
    assert "The process is now marked executable." in page
    draft = stored(db, draft_id)
    assert 'isExecutable="true"' in draft.bpmn_xml and "初始支持" in draft.bpmn_xml
    with db.read() as session:
        (row,) = [e for e in session.scalars(select(AuditEvent)) if e.kind == "draft_diagram_saved" and
                  audit.data_of(e)["source"] == "fix"]  # fmt: skip
        assert audit.data_of(row)["draft"] == draft_id
