"""The auditors' pure conversions: CSV and JSON exports, row hashes re-computable with the key, changed leaves,
form labels, and the diagram replay markers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from app import audit
from app.audit.chain import row_mac
from app.audit_export import (
    BOM,
    HASHED_FIELDS,
    changed_leaves,
    history_record,
    incident_record,
    record_mac,
    replay_counts,
    replay_markers,
    schema_field,
    task_changes,
    to_csv,
    to_json,
)
from app.models import AuditEvent, Incident
from tests.conftest import AUDIT_KEY

KEY = AUDIT_KEY.encode()
AT = datetime(2026, 3, 2, 1, 0, 5, tzinfo=UTC)


def chained_events() -> list[AuditEvent]:
    """Three rows of one incident's chain hashed the way app.audit.append does, without a database."""
    rows = [
        ("started", None, None, {"incident": {"title": "计费接口超时"}, "process_version": 1}),
        ("task_completed", "T1", "事件登记", {"spec_id": "register_incident", "changes": {}}),
        ("reclassified", None, None, {"rules": ["E3"], "before": {"level": "minor"}, "after": {"level": "yellow"}}),
    ]
    events, previous = [], audit.GENESIS
    for number, (kind, task_id, task_name, data) in enumerate(rows, start=1):
        event = AuditEvent(
            id=number,
            chain="incident:7",
            seq=number,
            incident_id=7,
            at=AT,
            actor_id=3,
            actor_name="王芳",
            actor_role="service_desk",
            kind=kind,
            task_id=task_id,
            task_name=task_name,
            data=audit.canonical_json(data),
            request_id="req-1",
            prev_hash=previous,
        )
        event.hash = previous = row_mac(KEY, event)
        events.append(event)
    return events


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :])))


def test_csv_has_a_bom_a_header_and_one_row_per_record():
    records = [
        {"number": "INC000001", "title": "计费接口超时", "emergency": True, "reopen_count": 0, "tags": ["a", "b"]},
        {"number": "INC000002", "title": "多行\n说明, 含逗号", "emergency": False, "reopen_count": None},
    ]
    columns = [("number", "编号"), ("title", "标题"), ("emergency", "紧急"), ("reopen_count", "重开"), ("tags", "标签")]
    text = to_csv(records, columns)
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert read_csv(text) == [
        ["编号", "标题", "紧急", "重开", "标签"],
        ["INC000001", "计费接口超时", "true", "0", '["a","b"]'],
        ["INC000002", "多行\n说明, 含逗号", "false", "", ""],
    ]


def test_csv_formatters_and_formula_text_kept_as_text():
    records = [{"level": "yellow", "title": '=HYPERLINK("http://x")', "count": -3}]
    text = to_csv(records, [("level", "Level"), ("title", "Title"), ("count", "Count")], {"level": str.upper})
    assert read_csv(text) == [["Level", "Title", "Count"], ["YELLOW", '\'=HYPERLINK("http://x")', "-3"]]


def test_history_record_carries_what_the_hash_covers_and_re_verifies_after_a_json_round_trip():
    events = chained_events()
    records = [history_record(event) for event in events]
    assert records[1] == {
        "id": 2,
        "chain": "incident:7",
        "seq": 2,
        "incident_id": 7,
        "at": "2026-03-02T01:00:05+00:00",
        "actor_id": 3,
        "actor_name": "王芳",
        "actor_role": "service_desk",
        "kind": "task_completed",
        "task_id": "T1",
        "task_name": "事件登记",
        "data": {"spec_id": "register_incident", "changes": {}},
        "data_canonical": '{"changes":{},"spec_id":"register_incident"}',
        "request_id": "req-1",
        "prev_hash": events[0].hash,
        "hash": events[1].hash,
    }
    text = to_json({"events": records})
    assert "王芳" in text and "\\u" not in text  # Chinese kept readable
    again = json.loads(text)["events"]
    assert again == records
    assert [record_mac(KEY, record) for record in again] == [event.hash for event in events]  # with the key
    assert [record["prev_hash"] for record in again] == [audit.GENESIS, events[0].hash, events[1].hash]
    assert set(HASHED_FIELDS) <= set(again[0])
    tampered = dict(again[2], data_canonical=again[2]["data_canonical"].replace("yellow", "red"))
    assert record_mac(KEY, tampered) != events[2].hash
    assert record_mac(b"a guessed key", again[0]) != events[0].hash


def test_incident_record_uses_codes_and_iso_utc_times():
    incident = Incident(
        id=12,
        title="计费接口超时",
        system="计费系统",
        type="fault",
        level="yellow",
        emergency=False,
        breached=True,
        status="closed",
        registered_at=AT,
        closed_at=datetime(2026, 3, 3, 4, 0, tzinfo=UTC),
        reopen_count=1,
    )
    record = incident_record(incident, process_version=2)
    assert record["number"] == "INC000012"
    assert (record["type"], record["level"], record["status"]) == ("fault", "yellow", "closed")
    assert (record["emergency"], record["breached"], record["reopen_count"]) == (False, True, 1)
    assert record["registered_at"] == "2026-03-02T01:00:05+00:00"
    assert record["closed_at"] == "2026-03-03T04:00:00+00:00"
    assert record["due_at"] is None and record["process_version"] == 2
    assert json.loads(to_json(record)) == record


def test_changed_leaves_walk_nested_objects_and_keep_only_what_changed():
    before = {"outcome": "pass_on", "next_stage": "first_line", "notes": "同", "extra": {"a": 1, "b": 2}}
    after = {"outcome": "resolved", "next_stage": None, "notes": "同", "extra": {"a": 1, "b": 3}, "new": [1]}
    assert changed_leaves(before, after, ("handling",)) == [
        (("handling", "outcome"), "pass_on", "resolved"),
        (("handling", "next_stage"), "first_line", None),
        (("handling", "extra", "b"), 2, 3),
        (("handling", "new"), None, [1]),
    ]
    assert changed_leaves({"x": 1}, {"x": 1}) == []
    assert changed_leaves("text", {"x": 1}, ("f",)) == [(("f",), "text", {"x": 1})]


def test_task_changes_from_a_task_completed_event():
    changes = {
        "handling": {"before": None, "after": {"outcome": "pass_on", "group": None, "notes": "无法解决"}},
        "incident": {"before": {"title": "同"}, "after": {"title": "同", "contact": None}},
    }
    assert task_changes(changes) == [
        (("handling", "outcome"), None, "pass_on"),
        (("handling", "notes"), None, "无法解决"),
    ]


def test_schema_field_gives_titles_and_choice_names():
    schema = {
        "properties": {
            "handling": {
                "title": "处理结果",
                "properties": {
                    "outcome": {"title": "处理结果", "enum": ["resolved", "pass_on"], "enumNames": ["已解决", "移交"]},
                    "channels": {"title": "通报渠道", "items": {"enum": ["sms"], "enumNames": ["短信"]}},
                    "notes": {"title": "处理记录"},
                },
            }
        }
    }
    assert schema_field(schema, ("handling", "outcome")) == ("处理结果", {"resolved": "已解决", "pass_on": "移交"})
    assert schema_field(schema, ("handling", "channels")) == ("通报渠道", {"sms": "短信"})
    assert schema_field(schema, ("handling", "notes")) == ("处理记录", {})
    assert schema_field(schema, ("handling", "missing")) == (None, {})
    assert schema_field(None, ("handling",)) == (None, {})


def test_replay_markers_and_counts_from_a_list_of_events():
    events = [
        {"kind": "started", "data": {}},
        {"kind": "task_completed", "data": {"spec_id": "register_incident"}},
        {"kind": "classified", "data": {"assessment": {}}},
        {"kind": "dispatched", "data": {"stage": "initial_support"}},  # several elements dispatch: not drawn
        {"kind": "task_completed", "data": {"spec_id": "initial_support"}},
        {"kind": "task_claimed", "data": {"spec_id": "first_line_handling", "before": None, "after": 3}},
        {"kind": "reclassified", "data": {"rules": ["E3"]}},
        {"kind": "reclassified", "data": {"rules": ["E1"]}},
        {"kind": "notification_overdue", "data": {}},
        {"kind": "deadline_warning", "data": {"due_at": "2026-03-03T01:00:00+00:00"}},
        {"kind": "deadline_breach", "data": {"due_at": "2026-03-03T01:00:00+00:00"}},
        {"kind": "task_completed", "data": {"spec_id": "first_line_handling"}},
        {"kind": "resolved", "data": {"stage": "first_line"}},
        {"kind": "reopened", "data": {"reason": "未解决"}},
        {"kind": "task_completed", "data": {"spec_id": "first_line_handling"}},
    ]
    markers = replay_markers(events, ["confirm_resolution", "first_line_handling", "follow_up_breach"])
    assert markers == {
        "register_incident": ["completed"],
        "classify_incident": ["completed"],
        "initial_support": ["completed"],
        "case_updated": ["completed"],
        "escalate_incident": ["escalation"],
        "record_late_notification": ["completed"],
        "throw_late_notification": ["completed"],
        "notification_overdue": ["escalation"],
        "record_deadline_warning": ["completed"],
        "deadline_warning": ["escalation"],
        "record_deadline_breach": ["completed"],
        "deadline_breach": ["escalation"],
        "first_line_handling": ["completed", "current"],
        "reopen_incident": ["completed"],
        "confirm_resolution": ["current"],
        "follow_up_breach": ["current"],
    }
    counts = replay_counts(events)
    assert counts["escalate_incident"] == 2 and counts["case_updated"] == 2 and counts["first_line_handling"] == 2
    assert counts["deadline_breach"] == 1 and counts["register_incident"] == 1
    assert "confirm_resolution" not in counts and "route_new_incident" not in counts


def test_replay_markers_read_audit_rows_too():
    events = chained_events()
    assert replay_markers(events, []) == {
        "register_incident": ["completed"],
        "case_updated": ["completed"],
        "escalate_incident": ["escalation"],
    }
    assert replay_counts(events) == {"register_incident": 1, "case_updated": 1, "escalate_incident": 1}
