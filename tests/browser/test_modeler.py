"""The process owner's modeler in the browser: what the properties panel sets is what the server stores, checks and
dry-runs — a user task's form, a new form by name (its skeleton in the draft), a gateway's outgoing condition — and a
diagram saved unchanged says what it said."""

from __future__ import annotations

import json
import re

from lxml import etree
from playwright.sync_api import Page, expect

from app.engine.model import NS
from app.process import diff, drafts
from app.process.models import ProcessDraft
from tests.browser.test_audit_and_process import BUNDLED, _new_draft, _upload

NAMES = {
    "initial_support": "初始支持",
    "f_onspot_yes": "是",
    "publish_announcement": "发布紧急公告",
    "deadline_warning": "期限预警",
    "throw_late_notification": "通知重新分类",
    "incident_pool": "事件管理流程",
    "second_line_handling": "二线尝试解决",
}
SAVED = re.compile(r"^已于 .* 保存。$")


def _stored(db, draft_id: int) -> str:
    with db.read() as session:
        return session.get(ProcessDraft, draft_id).bpmn_xml


def _select(owner: Page, element_id: str, at: float = 0.5) -> None:
    """Click the element as a person would, in its middle (a straight flow's box has no width: Playwright would not
    click it) or, for a pool, `at` a fraction of its width (its label strip)."""
    box = owner.locator(f'#diagram [data-element-id="{element_id}"]').first.bounding_box()
    owner.mouse.click(box["x"] + box["width"] * at, box["y"] + box["height"] / 2)
    expect(owner.locator(".bio-properties-panel-header-label")).to_contain_text(NAMES[element_id])


def _type(owner: Page, field, text: str) -> None:
    """Fill a panel's text field and wait until the edit is in the model: bpmn-js applies it after a debounce, and a
    selection or a save before then would race it."""
    status = owner.locator("[data-editor-status]")
    before = status.get_attribute("data-changes") or "0"
    field.fill(text)
    expect(status).not_to_have_attribute("data-changes", before)


def _save(owner: Page) -> None:
    status = owner.locator("[data-editor-status]")
    expect(status).to_have_text("有未保存的修改")
    owner.locator("[data-editor-save]").click()
    expect(status).to_have_text(SAVED)


def _open_modeler(owner: Page, live_server: str) -> int:
    draft_id = _new_draft(owner, live_server)
    owner.goto(f"{live_server}/process/drafts/{draft_id}/edit")
    expect(owner.get_by_test_id("modeler")).to_have_attribute("data-ready", "true")
    expect(owner.locator("[data-editor-status]")).to_have_text("")  # opening the diagram changes nothing
    return draft_id


def test_the_panel_sets_a_form_and_a_condition_that_the_server_stores_and_checks(open_as, live_server, db):
    owner = open_as("process_owner", viewport=(1600, 1000))
    draft_id = _open_modeler(owner, live_server)

    owner.locator("[data-editor-save]").click()  # unchanged: the spiffworkflow: extensions survive bpmn-js
    expect(owner.locator("[data-editor-status]")).to_have_text(SAVED)
    assert diff.equivalent(_stored(db, draft_id), BUNDLED.read_text(encoding="utf-8"))

    panel = owner.get_by_test_id("properties-panel")
    _select(owner, "initial_support")
    expect(panel.locator('[data-group-id="group-app-form"]')).to_contain_text("表单")
    expect(panel.locator("#bio-properties-panel-app-lane")).to_have_value("服务台")
    form = panel.locator("#bio-properties-panel-app-form-select")
    expect(form).to_have_value("initial_support")
    owner.screenshot(path="/tmp/modeler1.png")
    form.select_option("first_line_handling")
    _save(owner)

    _select(owner, "f_onspot_yes")
    condition = panel.locator("#bio-properties-panel-app-condition")
    expect(condition).to_have_value('on_spot["solved"]')
    _type(owner, condition, "solved")
    _save(owner)
    problem = owner.get_by_test_id("problems").locator('li[data-element-id="f_onspot_yes"]')
    expect(problem).to_contain_text("solved")

    _type(owner, condition, 'on_spot["solved"] is True')
    _save(owner)
    expect(problem).to_have_count(0)

    root = etree.fromstring(_stored(db, draft_id).encode())
    task = root.xpath("//bpmn:userTask[@id='initial_support']", namespaces=NS)[0]
    properties = {p.get("name"): p.get("value") for p in task.xpath(".//spiffworkflow:property", namespaces=NS)}
    assert properties == {
        "formJsonSchemaFilename": "first_line_handling.schema.json",
        "formUiSchemaFilename": "first_line_handling.uischema.json",
    }
    flow = root.xpath("//bpmn:sequenceFlow[@id='f_onspot_yes']", namespaces=NS)[0]
    assert flow.findtext("bpmn:conditionExpression", namespaces=NS) == 'on_spot["solved"] is True'

    # The dry run runs what the panel set: 初始支持 now shows first line's form, which the samples that pass through
    # it answer wrongly; the incident solved on the spot takes the flow whose condition was rewritten.
    owner.goto(f"{live_server}/process/drafts/{draft_id}/dryrun")
    stories = owner.get_by_test_id("dry-run-stories").locator("tbody tr")
    expect(stories).to_have_count(10)
    expect(owner.locator('tr[data-story="on_spot"]')).to_have_attribute("data-reached", "true")
    stuck = owner.get_by_test_id("stuck")
    expect(stuck).to_have_count(5)
    for index in range(5):
        expect(stuck.nth(index)).to_contain_text("initial_support: 表单拒绝了样例的答案")


def test_the_panel_sets_an_operation_a_timer_a_signal_payload_and_whether_the_process_runs(open_as, live_server, db):
    owner = open_as("process_owner", viewport=(1600, 1000))
    draft_id = _open_modeler(owner, live_server)
    panel = owner.get_by_test_id("properties-panel")

    _select(owner, "publish_announcement")
    operation = panel.locator("#bio-properties-panel-app-operation-select")
    expect(operation).to_have_value("announce")
    expect(panel.locator("#bio-properties-panel-app-operation-parameter-0")).to_have_value('handling["announcement"]')
    operation.select_option("follow_up_incident")
    title = panel.locator("#bio-properties-panel-app-operation-parameter-0")
    expect(panel.locator('label[for="bio-properties-panel-app-operation-parameter-0"]')).to_have_text("参数 title")
    expect(title).to_have_value("")
    _type(owner, title, 'handling["announcement"]')
    expect(panel.locator("#bio-properties-panel-app-operation-result")).to_have_value("announcement")

    _select(owner, "deadline_warning")
    kind = panel.locator("#bio-properties-panel-app-timer-kind")
    expect(kind).to_have_value("timeDate")
    expect(panel.locator("#bio-properties-panel-app-timer-value")).to_have_value('deadline_timers["warn_at"]')
    kind.select_option("timeDuration")
    _type(owner, panel.locator("#bio-properties-panel-app-timer-value"), '"PT30M"')

    _select(owner, "throw_late_notification")
    payload = panel.locator("#bio-properties-panel-app-signal-payload")
    expect(payload).to_have_value("case_update")
    _type(owner, payload, "dict(case_update)")

    _select(owner, "incident_pool", at=0.005)
    executable = panel.locator("#bio-properties-panel-isExecutable")
    expect(executable).to_be_checked()
    # Not uncheck(), which reads the box the moment after its click: the panel's checkbox keeps a state of its own
    # that takes the input's value ("on") on change and follows the model's value only after a render.
    executable.click()
    expect(executable).not_to_be_checked()
    _save(owner)
    expect(owner.get_by_test_id("problems").locator('li[data-element-id="incident_management"]')).to_contain_text(
        "isExecutable"
    )

    root = etree.fromstring(_stored(db, draft_id).encode())
    (operator,) = root.xpath("//*[@id='publish_announcement']//spiffworkflow:serviceTaskOperator", namespaces=NS)
    assert (operator.get("id"), operator.get("resultVariable")) == ("follow_up_incident", "announcement")
    parameters = [(p.get("id"), p.get("value")) for p in operator.xpath(".//spiffworkflow:parameter", namespaces=NS)]
    assert parameters == [("title", 'handling["announcement"]')]
    (timer,) = root.xpath("//*[@id='deadline_warning']/bpmn:timerEventDefinition", namespaces=NS)
    assert [etree.QName(child).localname for child in timer] == ["timeDuration"]
    assert timer[0].text == '"PT30M"'
    (signal,) = root.xpath("//bpmn:signal[@name='case_updated']", namespaces=NS)
    assert signal.findtext(".//spiffworkflow:payloadExpression", namespaces=NS) == "dict(case_update)"
    assert root.find("bpmn:process", NS).get("isExecutable") == "false"


def test_the_panel_says_which_lane_a_task_is_drawn_in_in_the_readers_language(open_as, live_server, tmp_path):
    """bpmn-js lists nothing for a task drawn inside the expanded sub-process: the panel names the lane it is drawn
    in, as the server reads it; in English too."""
    unlisted = tmp_path / "unlisted.bpmn"
    text = BUNDLED.read_text(encoding="utf-8")
    assert text.count("<bpmn:flowNodeRef>second_line_handling</bpmn:flowNodeRef>") == 1
    unlisted.write_text(text.replace("<bpmn:flowNodeRef>second_line_handling</bpmn:flowNodeRef>", ""), encoding="utf-8")
    owner = open_as("process_owner", viewport=(1600, 1000))
    draft_id = _new_draft(owner, live_server)
    _upload(owner, live_server, draft_id, unlisted)
    expect(owner.get_by_test_id("drawn-lanes")).to_contain_text("second_line_handling")

    owner.goto(f"{live_server}/process/drafts/{draft_id}/edit")
    expect(owner.get_by_test_id("modeler")).to_have_attribute("data-ready", "true")
    panel = owner.get_by_test_id("properties-panel")
    _select(owner, "second_line_handling")
    expect(panel.locator('label[for="bio-properties-panel-app-lane"]')).to_have_text("泳道")
    expect(panel.locator("#bio-properties-panel-app-lane")).to_have_value("二线（按绘制位置）")

    owner.locator('select[name="locale"]').select_option("en")
    owner.wait_for_load_state()
    expect(owner.get_by_test_id("modeler")).to_have_attribute("data-ready", "true")
    _select(owner, "second_line_handling")
    expect(panel.locator('label[for="bio-properties-panel-app-lane"]')).to_have_text("Lane")
    expect(panel.locator("#bio-properties-panel-app-lane")).to_have_value("二线 (from where it is drawn)")
    expect(panel.locator('[data-group-id="group-app-form"] .bio-properties-panel-group-header-title')).to_have_text(
        "Form"
    )


def test_a_new_form_named_in_the_panel_gets_its_skeleton_in_the_draft(open_as, live_server, db):
    owner = open_as("process_owner", viewport=(1600, 1000))
    draft_id = _open_modeler(owner, live_server)
    panel = owner.get_by_test_id("properties-panel")
    _select(owner, "initial_support")
    name = panel.locator("#bio-properties-panel-app-form-name")
    name.fill("bad name!")
    expect(panel).to_contain_text("只能使用字母、数字、_ 和 -。")
    _type(owner, name, "escalation_review")
    name.press("Tab")
    _save(owner)
    expect(panel.locator("#bio-properties-panel-app-form-select")).to_have_value("escalation_review")

    root = etree.fromstring(_stored(db, draft_id).encode())
    task = root.xpath("//bpmn:userTask[@id='initial_support']", namespaces=NS)[0]
    properties = {p.get("name"): p.get("value") for p in task.xpath(".//spiffworkflow:property", namespaces=NS)}
    assert properties == {
        "formJsonSchemaFilename": "escalation_review.schema.json",
        "formUiSchemaFilename": "escalation_review.uischema.json",
    }

    owner.goto(f"{live_server}/process/drafts/{draft_id}/forms")  # the Forms page offers the skeleton
    for file, skeleton in (
        ("escalation_review.schema.json", '"properties": {}'),
        ("escalation_review.uischema.json", "{}"),
    ):
        entry = owner.locator(f'[data-form-file="{file}"]')
        expect(entry.locator(".badge.added")).to_have_text("新增")
        expect(entry).to_contain_text("初始支持")  # the task that uses it
        expect(entry.locator("textarea")).to_contain_text(skeleton)
    owner.get_by_role("button", name="保存表单").click()
    expect(owner.locator(".flash-success")).to_contain_text("表单已保存")
    with db.read() as session:
        forms = drafts.forms_of(session.get(ProcessDraft, draft_id))
    assert json.loads(forms["escalation_review.schema.json"]) == {"type": "object", "properties": {}}
    assert json.loads(forms["escalation_review.uischema.json"]) == {}
    expect(owner.locator('[data-form-file="escalation_review.schema.json"] .badge.added')).to_have_count(0)


def _change_menu(owner: Page, element_id: str) -> list[str]:
    """The entries of the element's change menu (the context pad's 更改元素类型)."""
    box = owner.locator(f'#diagram [data-element-id="{element_id}"]').first.bounding_box()
    owner.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    owner.locator('.djs-context-pad .entry[data-action="replace"]').click()
    entries = owner.locator(".djs-popup .entry")
    expect(entries.first).to_be_visible()
    return [text.strip() for text in entries.all_inner_texts()]


def test_the_change_menu_speaks_the_readers_language(open_as, live_server, db):
    owner = open_as("process_owner", viewport=(1600, 1000))
    _open_modeler(owner, live_server)
    task = _change_menu(owner, "initial_support")
    assert {"服务任务", "手工任务", "子流程（折叠）", "自由子流程（展开）"} <= set(task)
    headers = owner.locator(".djs-popup-header .entry")
    assert {headers.nth(i).get_attribute("title") for i in range(headers.count())} >= {"并行多实例", "循环"}
    owner.keyboard.press("Escape")
    assert "事件网关" in _change_menu(owner, "gw_route")
    owner.locator(".djs-popup .entry", has_text="事件网关").click()  # the gateway becomes event-based…
    gateway = _change_menu(owner, "gw_route")
    assert {"排他网关", "并行网关", "包容网关", "复杂网关"} <= set(gateway)
    for entries in (task, gateway):
        assert not [text for text in entries if re.search("[A-Za-z]", text)], entries  # nothing left in English
