"""The xxxIT platform's ticket number on the incident: given at registration, set or cleared through
the API, found by search either way, shown on the incident page."""

from __future__ import annotations

from tests.driver import registration


def test_the_platform_links_both_ways(api, desk, as_role):
    data = registration("fault", complaints=20)
    data["incident"]["ops_ticket"] = "IT-2026-000123"
    created = api("service_desk").post("/api/v1/incidents", json=data).json
    incident_id = created["incident"]["id"]
    assert created["incident"]["ops_ticket"] == "IT-2026-000123"
    reader = api("first_line")
    found = reader.get("/api/v1/incidents", query_string={"ops_ticket": "IT-2026-000123"}).json["items"]
    assert [item["id"] for item in found] == [incident_id] and found[0]["ops_ticket"] == "IT-2026-000123"
    assert [i["id"] for i in reader.get("/api/v1/incidents", query_string={"q": "000123"}).json["items"]] == [
        incident_id
    ]

    other = desk.register(registration("request"))
    linked = reader.put(f"/api/v1/incidents/{other}/ops-ticket", json={"ops_ticket": " IT-2026-000777 "})
    assert linked.status_code == 200 and linked.json["incident"]["ops_ticket"] == "IT-2026-000777"
    assert "ops_ticket_set" in desk.audit_kinds(other)
    page = as_role("first_line").get(f"/incidents/{other}").get_data(as_text=True)
    assert 'data-testid="ops-ticket">IT-2026-000777<' in page
    assert (
        reader.put(f"/api/v1/incidents/{other}/ops-ticket", json={"ops_ticket": None}).json["incident"]["ops_ticket"]
        is None
    )


def test_who_may_link_and_what(api, desk):
    incident_id = desk.register(registration("request"))
    assert (
        api("requester").put(f"/api/v1/incidents/{incident_id}/ops-ticket", json={"ops_ticket": "x"}).status_code == 403
    )
    too_long = api("first_line").put(f"/api/v1/incidents/{incident_id}/ops-ticket", json={"ops_ticket": "x" * 201})
    assert too_long.status_code == 422 and too_long.json["errors"][0]["field"] == "ops_ticket"
    assert api("first_line").put("/api/v1/incidents/999999/ops-ticket", json={"ops_ticket": "x"}).status_code == 404
    # the requester reads their incident without the platform's number
    assert "ops_ticket" not in api("requester").get(f"/api/v1/incidents/{incident_id}").json["incident"]
