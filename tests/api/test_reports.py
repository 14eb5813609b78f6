"""The figures behind /reports as JSON, with the page's filter and readers."""

from __future__ import annotations

from app.web.report_figures import CSV_TABLES
from tests.driver import pass_on, registration, resolved


def test_every_report_of_the_page_as_json(api, desk):
    incident_id = desk.register(registration(complaints=20))
    desk.complete("service_desk", incident_id, "initial_support", pass_on("first_line"))
    desk.complete("first_line", incident_id, "first_line_handling", resolved())
    client = api("incident_manager")
    assert client.get("/api/v1/reports").json == list(CSV_TABLES)
    for name in CSV_TABLES:
        answer = client.get(f"/api/v1/reports/{name}", query_string={"from": "2026-03-01", "to": "2026-03-31"})
        assert answer.status_code == 200, (name, answer.json)
        assert answer.json["first_day"] == "2026-03-01" and answer.json["last_day"] == "2026-03-31"
    overall = client.get("/api/v1/reports/timeliness", query_string={"from": "2026-03-01", "to": "2026-03-31"}).json
    assert overall["rows"][0]["resolved"] == 1 and overall["rows"][0]["timely"] == 1
    by_type = client.get("/api/v1/reports/timeliness_by_type", query_string={"from": "2026-03-01"}).json["rows"]
    assert [row["key"] for row in by_type if row["resolved"]] == ["fault"]


def test_bad_filters_say_so_and_only_the_pages_readers_read(api):
    client = api("leadership")
    answer = client.get("/api/v1/reports/breaches", query_string={"from": "yesterday", "level": "purple"})
    assert answer.status_code == 200 and len(answer.json["notices"]) == 2
    assert client.get("/api/v1/reports/nothing").status_code == 404
    assert api("first_line").get("/api/v1/reports/breaches").status_code == 403
