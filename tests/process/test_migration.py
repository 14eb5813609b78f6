"""Moving running incidents to a new version (app/process/migration.py, app/incidents/moves.py): the preview
per incident, one move or all that can, refusals with the reason, the audit row with the versions before and
after, and the incident page, the replay and the command line showing it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit import SYSTEM
from app.forms import read_form_files
from app.incidents.moves import VersionMoves
from app.incidents.service import Conflict, PermissionDenied
from app.models import Incident, OpenTask, ProcessVersion
from app.process import versions
from tests.driver import registration
from tests.engine.bpmn_edit import BPMN_FILE
from tests.process.test_contract import bypass
from tests.process.test_validation import variant
from tests.process.test_web import text

FORMS = read_form_files()
XML = BPMN_FILE.read_text(encoding="utf-8")


def renamed_step(root) -> None:
    """初始支持 gets a new id (and name): the engine matches it by its place in the flow."""
    for element in root.iter():
        for name, value in element.attrib.items():
            if value == "initial_support":
                element.set(name, "initial_support_v2")
        if element.text and element.text.strip() == "initial_support":
            element.text = "initial_support_v2"


def publish(db, xml: str | bytes) -> ProcessVersion:
    with db.transaction() as session:
        version, created = versions.publish(session, xml if isinstance(xml, str) else xml.decode(), FORMS, SYSTEM, "v")
        assert created
        return version


@pytest.fixture
def moves(service) -> VersionMoves:
    return VersionMoves(service)


def open_specs(db, incident_id: int) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(select(OpenTask.spec_id).where(OpenTask.incident_id == incident_id)))


def test_an_incident_moves_with_its_tasks_matched_and_the_move_audited(desk, db, moves, actors):
    incident_id = desk.register(registration())
    assert "initial_support" in open_specs(db, incident_id)
    target = publish(db, variant(renamed_step))
    (candidate,) = moves.candidates(target.id)
    assert candidate.incident_id == incident_id and candidate.version == 1 and candidate.preview.can_move
    assert candidate.preview.added == ["initial_support_v2"] and candidate.preview.removed == ["initial_support"]
    assert "tracking_requested" in candidate.preview.unchanged  # the boundary events it waits with stay
    assert open_specs(db, incident_id).count("initial_support") == 1  # a preview changes nothing

    with pytest.raises(PermissionDenied):
        moves.migrate(actors["first_line"], incident_id, target.id)
    moves.migrate(actors["process_owner"], incident_id, target.id)
    with db.read() as session:
        assert session.get(Incident, incident_id).process_version.version == 2
    assert "initial_support_v2" in open_specs(db, incident_id) and "initial_support" not in open_specs(db, incident_id)
    kind, data = desk.audit(incident_id)[-1]
    assert kind == "migrated" and (data["version_before"], data["version_after"]) == (1, 2)
    assert data["added"] == ["initial_support_v2"] and data["removed"] == ["initial_support"]
    # the incident goes on on the new version
    task = desk.task(incident_id, "initial_support_v2")
    desk.service.complete_task(actors["service_desk"], incident_id, task.id, {"handling": {
        "outcome": "resolved", "solution_kind": "resolved", "solution": "已修复", "notes": "迁移后继续"}})  # fmt: skip
    assert "confirm_resolution" in open_specs(db, incident_id)
    assert moves.candidates(target.id) == []  # nothing left to move


def test_an_incident_waiting_at_a_removed_task_is_refused_with_the_reason(desk, db, moves, actors):
    tracked = desk.register(registration())
    desk.service.forward_for_tracking(actors["service_desk"], tracked, "请跟踪")
    plain = desk.register(registration())
    target = publish(db, variant(lambda root: bypass(root, "track_incident")))
    previews = {candidate.incident_id: candidate.preview for candidate in moves.candidates(target.id)}
    assert not previews[tracked].can_move and "track_incident" in str(previews[tracked].reason)
    assert previews[plain].can_move
    with pytest.raises(Conflict) as refused:
        moves.migrate(actors["process_owner"], tracked, target.id)
    assert "it waits at track_incident, which the new version removes" in str(refused.value)
    with db.read() as session:
        assert session.get(Incident, tracked).process_version.version == 1  # nothing changed
    moved, not_moved = moves.migrate_all(actors["process_owner"], target.id)
    assert moved == [plain] and [incident_id for incident_id, _ in not_moved] == [tracked]
    assert "migrated" not in [kind for kind, _ in desk.audit(tracked)]


def test_the_pages_preview_move_and_show_the_version_change(as_role, desk, db, actors):
    incident_id = desk.register(registration())
    target = publish(db, variant(renamed_step))
    owner = as_role("process_owner")
    assert owner.post("/language", {"locale": "en", "next": "/process/"}).status_code == 302
    assert f"/process/versions/{target.id}/migrate" in text(owner.get(f"/process/versions/{target.id}"))
    page = text(owner.get(f"/process/versions/{target.id}/migrate"))
    row = page[page.index(f'data-incident="{incident_id}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-can-move="true"' in row and "initial_support_v2" in row
    assert owner.post(f"/process/versions/{target.id}/migrate", {"incident_id": str(incident_id)}).status_code == 302
    assert "No running incident is on another version" in text(owner.get(f"/process/versions/{target.id}/migrate"))
    assert owner.post(f"/process/versions/{target.id}/migrate", {"incident_id": "x"}).status_code == 400
    assert as_role("first_line").get(f"/process/versions/{target.id}/migrate").status_code == 403
    # the incident page's timeline and the auditor's replay show the change
    manager = as_role("incident_manager")
    assert manager.post("/language", {"locale": "en", "next": "/"}).status_code == 302
    detail = text(manager.get(f"/incidents/{incident_id}"))
    assert "Process version 1 → 2" in detail
    auditor = as_role("auditor")
    assert auditor.post("/language", {"locale": "en", "next": "/"}).status_code == 302
    replay = text(auditor.get(f"/audit/incidents/{incident_id}"))
    assert re.search(r"moved from version 1 to version 2", replay) and 'data-testid="replay-migrated"' in replay


def test_the_command_line_previews_and_moves(app, desk, db):
    incident_id = desk.register(registration())
    publish(db, variant(renamed_step))
    cli = app.test_cli_runner()
    preview = cli.invoke(args=["process", "migrate", "2"])
    assert preview.exit_code == 0 and f"INC{incident_id:06d} (version 1) can move" in preview.output
    assert "initial_support_v2" in preview.output
    moved = cli.invoke(args=["process", "migrate", "2", "--all"])
    assert moved.exit_code == 0 and "moved" in moved.output
    with db.read() as session:
        assert session.get(Incident, incident_id).process_version.version == 2
    assert cli.invoke(args=["process", "migrate", "9"]).exit_code == 1
