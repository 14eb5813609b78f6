"""The dry run (app/process/dryrun.py): a draft run in memory by the real engine on sample incidents covering
every path; where a changed draft gets stuck is named, on the page, on the publish page and on the command line."""

from __future__ import annotations

import json
import re

from app.engine.model import NS
from app.forms import read_form_files
from app.process import dryrun, validation
from tests.engine.bpmn_edit import BPMN_FILE, find
from tests.process.test_validation import variant
from tests.process.test_web import diagram_data, new_draft, text, upload

FORMS = read_form_files()


def outcomes_of(xml: bytes, forms=FORMS) -> dict[str, dryrun.Outcome]:
    return {outcome.story.key: outcome for outcome in dryrun.run_all(validation.load(xml, forms))}


def outcome_reason(outcome: dryrun.Outcome) -> str:
    return str(outcome.reason)


def unresolvable(root) -> None:
    """处理结果 no longer knows the outcome 'resolved': an incident whose handler resolves it cannot go on."""
    find(root, "f_outcome_resolved").find("bpmn:conditionExpression", NS).text = 'handling["outcome"] == "fixed"'


def test_every_sample_incident_reaches_its_end_on_the_shipped_process():
    outcomes = outcomes_of(BPMN_FILE.read_bytes())
    assert {key: outcome.reached for key, outcome in outcomes.items()} == dict.fromkeys(outcomes, True)
    assert outcomes["on_spot"].path[-1] == "end_closed_on_spot"
    assert outcomes["change"].path[-1] == "throw_transfer_finished"  # then it waits for the change (等待变更)
    assert "reopen_incident" in outcomes["reopened"].path and "publish_announcement" in outcomes["emergency"].path
    assert {"escalate_incident", "track_incident"} <= set(outcomes["facts_added"].path + outcomes["tracking"].path)
    covered = {step for outcome in outcomes.values() for step in outcome.path}
    assert {"create_problem_ticket", "create_follow_up_incident", "second_line_handling", "notify_fault"} <= covered


def test_a_path_that_cannot_go_on_is_stuck_at_its_element():
    outcomes = outcomes_of(variant(unresolvable))
    stuck = {key for key, outcome in outcomes.items() if not outcome.reached}
    assert stuck == set(outcomes) - {"on_spot", "change"}  # every story that resolves in handling
    first = outcomes["first_line"]
    assert first.stuck_at == "gw_handling_outcome" and "the engine failed here" in outcome_reason(first)


def test_a_form_that_refuses_the_sample_answer_is_named():
    schema = json.loads(FORMS["confirm_resolution.schema.json"])
    schema["properties"]["confirmation"]["required"].append("satisfaction")
    schema["properties"]["confirmation"]["properties"]["satisfaction"] = {"type": "integer"}
    forms = {**FORMS, "confirm_resolution.schema.json": json.dumps(schema)}
    first = outcomes_of(BPMN_FILE.read_bytes(), forms)["first_line"]
    assert not first.reached and first.stuck_at == "confirm_resolution"
    assert "confirmation.satisfaction" in outcome_reason(first)


def test_a_signal_nothing_catches_any_more_is_named():
    def no_tracking(root):
        boundary = find(root, "tracking_requested")
        boundary.getparent().remove(boundary)

    outcome = outcomes_of(variant(no_tracking))["tracking"]
    assert not outcome.reached and "tracking_requested" in outcome_reason(outcome)
    assert "first_line_handling" in outcome.waiting


def test_the_command_line_lists_each_story_and_fails_when_one_is_stuck(app, tmp_path):
    cli = app.test_cli_runner()
    result = cli.invoke(args=["process", "dryrun", str(BPMN_FILE)])
    assert result.exit_code == 0, result.output
    assert len(re.findall(r"^ok ", result.output, re.M)) == len(dryrun.STORIES)
    (tmp_path / "forms").mkdir()
    for name, text_ in FORMS.items():
        (tmp_path / "forms" / name).write_text(text_, encoding="utf-8")
    stuck = tmp_path / "processes" / "draft.bpmn"
    stuck.parent.mkdir()
    stuck.write_bytes(variant(unresolvable))
    result = cli.invoke(args=["process", "dryrun", str(stuck)])
    assert result.exit_code == 1
    assert "STUCK  first_line at gw_handling_outcome" in result.output


def test_the_dry_run_page_and_the_publish_page_show_where_a_path_gets_stuck(as_role, db):
    owner = as_role("process_owner")
    assert owner.post("/language", {"locale": "en", "next": "/process/"}).status_code == 302
    draft_id = new_draft(owner)
    page = text(owner.get(f"/process/drafts/{draft_id}/dryrun"))
    assert f"{len(dryrun.STORIES)} of {len(dryrun.STORIES)} sample incidents reach their end" in page
    assert upload(owner, draft_id, variant(unresolvable)).status_code == 302
    page = text(owner.get(f"/process/drafts/{draft_id}/dryrun"))
    assert f"2 of {len(dryrun.STORIES)} sample incidents reach their end" in page
    row = page[page.index('data-story="first_line"') :]
    row = row[: row.index("</tr>")]
    assert 'data-reached="false"' in row and "gw_handling_outcome" in row and "Handling outcome" in row
    assert "gw_handling_outcome" in {p["element_id"] for p in diagram_data(page)["problems"]}  # marked on the diagram
    publish = text(owner.get(f"/process/drafts/{draft_id}/publish"))
    summary = publish[publish.index('data-testid="publish-dry-run"') :]
    assert f"2 of {len(dryrun.STORIES)} sample incidents reach their end" in summary
    assert "gw_handling_outcome" in summary
