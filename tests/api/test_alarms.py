"""Alarms through the API: Alertmanager's webhook and the generic JSON, as a monitoring account with
the `alarms` scope; the incidents they open, and the alarms on the incident page."""

from __future__ import annotations

from tests.alarms.test_mapping import ALERTMANAGER
from tests.driver import number


def test_alertmanager_opens_one_incident_per_fingerprint_and_notes_the_resolution(api, as_role):
    monitoring = api("service_desk", scopes=["alarms"])
    answer = monitoring.post("/api/v1/alarms/alertmanager", json=ALERTMANAGER)
    assert answer.status_code == 200, answer.json
    first, second = answer.json["results"]
    assert first["outcome"] == "opened" and second["outcome"] == "unmatched"
    incident_id = first["incident_id"]
    repeat = monitoring.post("/api/v1/alarms/alertmanager", json=ALERTMANAGER).json["results"][0]
    assert (repeat["outcome"], repeat["incident_id"]) == ("attached", incident_id)
    cleared = {**ALERTMANAGER, "status": "resolved", "alerts": [{**ALERTMANAGER["alerts"][0], "status": "resolved"}]}
    assert monitoring.post("/api/v1/alarms/alertmanager", json=cleared).json["results"][0]["outcome"] == "resolved"

    record = api("first_line").get(f"/api/v1/incidents/{incident_id}").json
    assert record["incident"]["status"] == "open" and record["incident"]["source"] == "monitoring"
    listed = api("first_line").get(f"/api/v1/incidents/{incident_id}/alarms").json["items"]
    assert [item["outcome"] for item in listed] == ["resolved", "attached", "opened"]
    assert listed[-1]["labels"]["labels"]["system"] == "CRM"

    page = as_role("first_line").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert 'data-testid="alarms"' in page and "计费接口响应超时" in page and "a1b2c3" in page
    assert number(incident_id) in page


def test_the_generic_alarm_json_and_a_storm(api):
    monitoring = api("service_desk", scopes=["alarms"])
    outcomes = [
        monitoring.post(
            "/api/v1/alarms",
            json={"source": "zabbix", "fingerprint": f"crm-{name}", "system": "CRM", "summary": f"CRM {name} 告警",
                  "severity": "high", "starts_at": "2026-03-02T09:00:00+08:00", "labels": {"complaints": "30"}},
        ).json["results"][0]
        for name in ("disk", "cpu", "memory")
    ]  # fmt: skip
    assert [item["outcome"] for item in outcomes] == ["opened", "storm_child", "storm_child"]
    parent = outcomes[0]["incident_id"]
    assert {item["parent_incident_id"] for item in outcomes[1:]} == {parent}
    assert len(api("auditor").get(f"/api/v1/incidents/{parent}/alarms").json["items"]) == 3


def test_alarm_refusals(api, desk):
    assert (
        api("first_line", scopes=["alarms"])
        .post("/api/v1/alarms", json={"source": "zabbix", "summary": "x"})
        .status_code
        == 403
    )  # the account may not register incidents
    assert (
        api("service_desk", scopes=["read"])
        .post("/api/v1/alarms", json={"source": "zabbix", "summary": "x"})
        .status_code
        == 403
    )  # the token lacks the scope
    bad = api("service_desk", scopes=["alarms"]).post("/api/v1/alarms", json={"source": "", "status": "exploded"})
    assert bad.status_code == 422 and {"source", "summary", "status"} <= {e["field"] for e in bad.json["errors"]}
    incident_id = desk.register()  # raised by the requester: they do not read alarms
    assert api("requester").get(f"/api/v1/incidents/{incident_id}/alarms").status_code == 404
