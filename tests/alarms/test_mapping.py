"""What monitoring sends, read as alarms and as the registration form's answers (pure functions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from app import forms
from app.alarms import mapping

FACTS = json.loads(Path("forms/register_incident.schema.json").read_text())["properties"]["facts"]

ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="BillingLatency"}',
    "status": "firing",
    "receiver": "bss-incidents",
    "groupLabels": {"alertname": "BillingLatency"},
    "commonLabels": {"alertname": "BillingLatency", "system": "CRM", "severity": "critical"},
    "commonAnnotations": {"summary": "计费接口响应超时"},
    "externalURL": "http://alertmanager.local:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"instance": "crm-01", "affected_users": "1200", "complaints": "many"},
            "annotations": {"description": "p99 > 5s"},
            "startsAt": "2026-03-02T01:00:00.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.local/graph",
            "fingerprint": "a1b2c3",
        },
        {"status": "resolved", "labels": {"instance": "crm-02"}, "startsAt": "2026-03-02T00:50:00Z",
         "endsAt": "2026-03-02T00:59:00Z"},
    ],
}  # fmt: skip


def test_alertmanager_alerts_with_the_groups_common_labels():
    first, second = mapping.from_alertmanager(ALERTMANAGER)
    assert (first.fingerprint, first.status, first.system, first.severity) == ("a1b2c3", "firing", "CRM", "critical")
    assert first.summary == "计费接口响应超时" and first.description == "p99 > 5s"
    assert first.starts_at == datetime(2026, 3, 2, 1, 0, tzinfo=UTC) and first.ends_at is None
    assert first.source == "bss-incidents"
    assert second.status == "resolved" and second.ends_at == datetime(2026, 3, 2, 0, 59, tzinfo=UTC)
    assert second.fingerprint == mapping.label_fingerprint(second.labels)  # none sent: from the labels
    assert second.fingerprint != mapping.label_fingerprint({**second.labels, "instance": "crm-03"})


def test_facts_come_from_labels_named_like_the_forms_facts_and_only_when_they_fit():
    labels = {"affected_users": "1200", "complaints": "many", "vp_complaint": "true", "fault_category": "hardware",
              "hq_consequence": "nonsense", "total_users": "0", "unrelated": "x"}  # fmt: skip
    assert mapping.facts_from_labels(FACTS, labels) == {
        "affected_users": 1200,
        "vp_complaint": True,
        "fault_category": "hardware",
    }


def test_a_firing_alarm_becomes_a_registration_the_form_accepts():
    alarm = mapping.from_alertmanager(ALERTMANAGER)[0]
    data = mapping.registration(alarm, FACTS)
    schema = json.loads(Path("forms/register_incident.schema.json").read_text())
    clean = forms.validate(schema, data)
    assert clean["incident"]["source"] == "monitoring" and clean["incident"]["system"] == "CRM"
    assert clean["facts"]["type"] == "fault" and clean["facts"]["affected_users"] == 1200
    assert clean["facts"]["fault_category"] == "other" and clean["facts"]["core_business_impact"] == "unknown"
    assert "a1b2c3" in clean["incident"]["description"] and clean["incident"]["occurred_at"].startswith("2026-03-02")
    long = mapping.Received("generic", "zabbix", "k", "firing", "告" * 500, description="x" * 9000)
    assert forms.validate(schema, mapping.registration(long, FACTS))["incident"]["title"] == "告" * 200
