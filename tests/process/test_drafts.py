"""Process drafts without the web: optimistic locking, the forms merge, refusing what is not a diagram,
and publishing from a draft (app/process/drafts.py)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from app import audit
from app.audit import SYSTEM, Actor
from app.models import AuditEvent, ProcessVersion
from app.process import drafts, versions
from app.process.models import ProcessDraft
from app.process.problems import ModelError
from app.process.validation import MAX_BPMN_BYTES, MAX_ELEMENTS
from app.process.versions import BUNDLED_DIAGRAM

OWNER = Actor(None, "郑涛", frozenset({"process_owner"}))
OTHER = Actor(None, "另一位流程负责人", frozenset({"process_owner"}))
XML = BUNDLED_DIAGRAM.read_text(encoding="utf-8")
RELABELLED = XML.replace('name="初始支持"', 'name="初始支持（运维）"')


@pytest.fixture
def version1(db):
    with db.transaction() as session:
        return versions.publish_bundled_if_none(session, SYSTEM)


@pytest.fixture
def draft_id(db, version1):
    with db.transaction() as session:
        return drafts.create(session, OWNER).id


def load(db, draft_id: int) -> ProcessDraft:
    with db.read() as session:
        return drafts.get(session, draft_id)


def version_count(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(ProcessVersion))


def test_a_draft_starts_as_a_copy_of_the_latest_version(db, version1, draft_id):
    draft = load(db, draft_id)
    assert (draft.bpmn_xml, draft.forms_json) == (version1.bpmn_xml, version1.forms_json)
    assert (draft.base_version_id, draft.process_id, draft.status) == (version1.id, "incident_management", "open")
    assert (draft.created_by, draft.updated_by, draft.lock_version) == ("郑涛", "郑涛", 1)
    assert "initial_support.schema.json" in drafts.forms_of(draft)


def test_saving_with_a_stale_lock_version_is_a_conflict_and_overwrites_nothing(db, draft_id):
    with db.transaction() as session:
        saved = drafts.save_diagram(session, draft_id, 1, RELABELLED, OTHER)
        assert saved.lock_version == 2
    with pytest.raises(drafts.DraftConflict) as conflict:  # the first owner still has lock_version 1
        with db.transaction() as session:
            drafts.save_diagram(session, draft_id, 1, XML.replace('name="一线"', 'name="三线"'), OWNER)
    assert (conflict.value.updated_by, conflict.value.lock_version) == ("另一位流程负责人", 2)
    with pytest.raises(drafts.DraftConflict):
        with db.transaction() as session:
            drafts.save_forms(session, draft_id, 1, {"initial_support.uischema.json": "{}"}, OWNER)
    draft = load(db, draft_id)
    assert (draft.bpmn_xml, draft.lock_version, draft.updated_by) == (RELABELLED, 2, "另一位流程负责人")
    assert json.loads(drafts.forms_of(draft)["initial_support.uischema.json"]) != {}
    with db.transaction() as session:  # with the current lock version it saves
        assert drafts.save_diagram(session, draft_id, 2, XML, OWNER).lock_version == 3


def test_forms_are_checked_then_merged(db, draft_id):
    before = drafts.forms_of(load(db, draft_id))
    with pytest.raises(drafts.InvalidForms) as invalid:
        with db.transaction() as session:
            drafts.save_forms(
                session,
                draft_id,
                1,
                {
                    "initial_support.schema.json": '{"type": "object", "properties": {',
                    "first_line_handling.schema.json": '{"type": "objekt"}',
                    "close_incident.uischema.json": "[]",
                    "close_incident.schema.json": '{"type": "array"}',
                    "initial_support.uischema.json": "{}",
                },
                OWNER,
            )
    errors = {name: str(message) for name, message in invalid.value.errors.items()}
    assert errors["initial_support.schema.json"].startswith("Not valid JSON")
    assert errors["first_line_handling.schema.json"].startswith("Not a valid JSON Schema")
    assert "JSON object" in errors["close_incident.uischema.json"]
    assert "object" in errors["close_incident.schema.json"]
    assert "initial_support.uischema.json" not in errors
    assert drafts.forms_of(load(db, draft_id)) == before  # all or nothing

    edited = '{\r\n  "ui:order": ["handling"]\r\n}'
    with db.transaction() as session:
        drafts.save_forms(session, draft_id, 1, {"initial_support.uischema.json": edited}, OWNER)
    after = drafts.forms_of(load(db, draft_id))
    assert after["initial_support.uischema.json"] == '{\n  "ui:order": ["handling"]\n}'  # CRLF from a textarea
    assert {name: text for name, text in after.items() if name != "initial_support.uischema.json"} == {
        name: text for name, text in before.items() if name != "initial_support.uischema.json"
    }


def test_a_form_file_the_diagram_newly_references_is_added(db, draft_id):
    xml = RELABELLED.replace('value="initial_support.uischema.json"', 'value="initial_support_ops.uischema.json"')
    with db.transaction() as session:
        drafts.save_diagram(session, draft_id, 1, xml, OWNER)
    draft = load(db, draft_id)
    new = [(name, text) for name, text, is_new in drafts.editable_forms(draft) if is_new]
    assert new == [("initial_support_ops.uischema.json", drafts.NEW_UI_SCHEMA)]
    assert [p.element_id for p in drafts.problems(draft)] == ["initial_support"]  # missing until saved
    with db.transaction() as session:
        drafts.save_forms(
            session, draft_id, 2, {"initial_support_ops.uischema.json": '{"ui:order": ["handling"]}'}, OWNER
        )
    draft = load(db, draft_id)
    assert "initial_support_ops.uischema.json" in drafts.forms_of(draft)
    assert "initial_support.uischema.json" in drafts.forms_of(draft)  # kept, but no longer published
    assert drafts.problems(draft) == []
    with db.read() as session:
        latest = versions.latest(session)
    changes = drafts.form_changes(drafts.forms_of(latest), drafts.published_forms(draft))
    assert (changes.added, changes.removed, changes.changed) == (
        ["initial_support_ops.uischema.json"],
        ["initial_support.uischema.json"],
        [],
    )


def test_merge_replaces_and_adds_and_removes_nothing():
    merged = drafts.merge_forms({"a.json": "1", "b.json": "2"}, {"b.json": "3", "c.json": "4"})
    assert merged == {"a.json": "1", "b.json": "3", "c.json": "4"}


def test_publishing_a_draft_makes_the_next_version_and_closes_the_draft(db, version1, draft_id):
    with db.transaction() as session:
        drafts.save_diagram(session, draft_id, 1, RELABELLED, OWNER)
    with db.transaction() as session:
        version, created = drafts.publish(session, draft_id, 2, OWNER, "初始支持改名")
    assert created and (version.version, version.comment, version.published_by) == (2, "初始支持改名", "郑涛")
    draft = load(db, draft_id)
    assert (draft.status, draft.published_version_id, draft.comment) == ("published", version.id, "初始支持改名")
    with db.read() as session:
        assert versions.latest(session).bpmn_xml == RELABELLED
    with pytest.raises(drafts.DraftClosed):  # kept as the record, no longer changed
        with db.transaction() as session:
            drafts.save_diagram(session, draft_id, draft.lock_version, XML, OWNER)
    with pytest.raises(drafts.DraftClosed):
        with db.transaction() as session:
            drafts.discard(session, draft_id, SYSTEM)


def test_publishing_needs_the_reviewed_lock_version(db, draft_id):
    with db.transaction() as session:
        drafts.save_diagram(session, draft_id, 1, RELABELLED, OTHER)
    with pytest.raises(drafts.DraftConflict):
        with db.transaction() as session:
            drafts.publish(session, draft_id, 1, OWNER, "reviewed something else")
    assert version_count(db) == 1


def test_an_unchanged_draft_publishes_nothing_and_stays_open(db, version1, draft_id):
    with db.transaction() as session:
        version, created = drafts.publish(session, draft_id, 1, OWNER, "nothing")
    assert not created and version.id == version1.id
    assert load(db, draft_id).status == "open" and version_count(db) == 1


def test_a_draft_with_problems_is_refused_and_nothing_is_published(db, draft_id):
    with db.transaction() as session:
        drafts.save_diagram(session, draft_id, 1, XML.replace('name="一线"', 'name="三线"'), OWNER)
    draft = load(db, draft_id)
    problems = drafts.problems(draft)
    assert [(p.element_id, p.element_name) for p in problems] == [("lane_first_line", "三线")]
    with pytest.raises(ModelError) as refused:
        with db.transaction() as session:
            drafts.publish(session, draft_id, 2, OWNER, "x")
    assert "lane '三线' is not known" in str(refused.value)
    assert version_count(db) == 1 and load(db, draft_id).status == "open"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"name,level\nbilling,red\n", "not XML", id="csv"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "not XML", id="binary"),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "DOCTYPE",
            id="xxe",
        ),
        pytest.param(b"<html><body>hello</body></html>", "not a BPMN 2.0 diagram", id="html"),
        pytest.param(XML.encode() + b"<!--" + b"x" * MAX_BPMN_BYTES + b"-->", "larger than 2 MB", id="too-large"),
        pytest.param(
            XML.replace(
                "</bpmn:definitions>", "<bpmn:textAnnotation/>" * MAX_ELEMENTS + "</bpmn:definitions>"
            ).encode(),
            "at most 10000 are accepted",
            id="too-many-elements",
        ),
    ],
)
def test_what_is_not_a_diagram_is_refused_plainly(db, draft_id, data, expected):
    with pytest.raises(drafts.InvalidDiagram) as refused:
        with db.transaction() as session:
            drafts.save_diagram(session, draft_id, 1, data, OWNER)
    assert expected in str(refused.value.message)
    draft = load(db, draft_id)
    assert (draft.bpmn_xml, draft.lock_version) == (XML, 1)


def test_a_diagram_in_another_encoding_is_stored_as_text(db, draft_id):
    data = RELABELLED.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    with db.transaction() as session:
        drafts.save_diagram(session, draft_id, 1, data, OWNER)
    draft = load(db, draft_id)
    assert "初始支持（运维）" in draft.bpmn_xml and drafts.problems(draft) == []


def test_discarding_an_open_draft_deletes_it(db, draft_id):
    with db.transaction() as session:
        drafts.discard(session, draft_id, SYSTEM)
    with pytest.raises(drafts.DraftNotFound):
        load(db, draft_id)


def test_every_draft_action_is_audited(db, version1, draft_id):
    with db.transaction() as session:
        drafts.save_diagram(session, draft_id, 1, RELABELLED, OWNER, source="upload")
        drafts.save_forms(session, draft_id, 2, {"initial_support.uischema.json": "{}"}, OTHER)
        drafts.discard(session, draft_id, OTHER)
    with db.read() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.kind.like("draft_%")).order_by(AuditEvent.id))
        seen = [(row.kind, row.actor_name, audit.data_of(row)) for row in rows]
    digest = hashlib.sha256(RELABELLED.encode()).hexdigest()
    common = {"draft": draft_id, "process_id": "incident_management"}
    assert seen == [
        ("draft_created", OWNER.name, {**common, "base_version": 1}),
        (
            "draft_diagram_saved",
            OWNER.name,
            {**common, "source": "upload", "characters": len(RELABELLED), "sha256": digest},
        ),
        ("draft_forms_saved", OTHER.name, {**common, "files": ["initial_support.uischema.json"]}),
        ("draft_discarded", OTHER.name, {**common, "sha256": digest, "created_by": OWNER.name}),
    ]
