"""The API's authorization matrix: every operation × every role (a token of that account with every
scope), without a token, and with a token lacking the operation's scope. Who may do what is the web
app's rule for the same action (tests/web/test_authorization.py); a route with no row here fails."""

from __future__ import annotations

import pytest

from app.alarms import recovery
from app.alarms.models import Alarm
from app.api import tokens
from app.audit import SYSTEM
from app.models import utcnow
from app.users import ROLES
from tests.api.conftest import ApiClient, make_token
from tests.driver import registration, resolved
from tests.replays import replayed

HANDLERS = {"service_desk", "first_line", "second_line_dev", "second_line_test", "second_line_is", "incident_manager"}
READERS = HANDLERS | {"leadership", "auditor"}
OK, REFUSED, HIDDEN = {200, 201, 409, 422}, {403}, {404}  # OK: let through to the service (bodies are empty)


def allowed_if(roles: set[str], otherwise: set[int] = REFUSED):
    return lambda role: OK if role in roles else otherwise


# endpoint → (method, path, scope, role → accepted statuses)
MATRIX = {
    "api.list_incidents": ("GET", "/incidents", tokens.READ, allowed_if(READERS | {"requester"})),
    "api.create_incident": ("POST", "/incidents", tokens.WRITE_INCIDENTS, allowed_if({"service_desk", "requester"})),
    "api.registration_form": ("GET", "/incidents/form", tokens.READ, allowed_if({"service_desk", "requester"})),
    "api.get_incident": ("GET", "/incidents/{incident}", tokens.READ, allowed_if(READERS | {"requester"}, HIDDEN)),
    "api.add_facts": ("POST", "/incidents/{incident}/facts", tokens.WRITE_INCIDENTS, allowed_if(HANDLERS)),
    # a comment on the requester's own (resolved) incident: theirs and handlers' to write (a valid body: BODIES)
    "api.add_note": (
        "POST",
        "/incidents/{incident}/notes",
        tokens.WRITE_INCIDENTS,
        allowed_if(HANDLERS | {"requester"}, HIDDEN | REFUSED),
    ),
    "api.link_incident": ("POST", "/incidents/{incident}/links", tokens.WRITE_INCIDENTS, allowed_if(HANDLERS)),
    "api.set_ops_ticket": ("PUT", "/incidents/{incident}/ops-ticket", tokens.WRITE_INCIDENTS, allowed_if(HANDLERS)),
    "api.change_done": ("POST", "/incidents/{incident}/change-done", tokens.WRITE_INCIDENTS, allowed_if(HANDLERS)),
    "api.my_tasks": ("GET", "/tasks", tokens.READ, allowed_if(HANDLERS | {"requester"})),
    # the matrix's task is the requester's confirmation: theirs, and the service desk's on their behalf
    "api.task_form": ("GET", "/tasks/{incident}/{task}/form", tokens.READ, allowed_if(HANDLERS | {"requester"})),
    "api.claim": (
        "POST",
        "/tasks/{incident}/{task}/claim",
        tokens.COMPLETE_TASKS,
        allowed_if({"requester", "service_desk"}, {403, 409}),  # already claimed: 409, as on the page
    ),
    "api.release": (
        "POST",
        "/tasks/{incident}/{task}/release",
        tokens.COMPLETE_TASKS,
        allowed_if({"incident_manager"}, {403, 409}),
    ),
    "api.complete": (
        "POST",
        "/tasks/{incident}/{task}/complete",
        tokens.COMPLETE_TASKS,
        allowed_if({"requester", "service_desk"}),
    ),
    "api.report_names": ("GET", "/reports", tokens.READ, allowed_if({"incident_manager", "leadership"})),
    "api.report": ("GET", "/reports/breaches", tokens.READ, allowed_if({"incident_manager", "leadership"})),
    # alarms open incidents by registering them: the service desk's role
    "api.alertmanager": ("POST", "/alarms/alertmanager", tokens.ALARMS, allowed_if({"service_desk"})),
    "api.generic": ("POST", "/alarms", tokens.ALARMS, allowed_if({"service_desk"})),
    "api.incident_alarms": ("GET", "/incidents/{incident}/alarms", tokens.READ, allowed_if(READERS, HIDDEN)),
    # the world's check is on a resolved incident, which the service desk follows up; the manager ticks any
    "api.confirm_recovery": (
        "POST",
        "/recovery-checks/{check}/confirm",
        tokens.COMPLETE_TASKS,
        allowed_if({"service_desk", "incident_manager"}),
    ),
    # the token itself: any account, any scope
    "api.this_token": ("GET", "/token", None, lambda role: {200}),
}
PUBLIC = {"api.openapi", "api.docs"}
BODIES = {"/incidents/{incident}/notes": {"kind": "comment", "text": "补充：问题已复现"}}  # else {}: refused or 422


@pytest.fixture
def world(desk, db, clock):
    return replayed(db, clock, lambda: _world(desk, db))


def _world(desk, db) -> dict:
    incident_id = desk.register(registration("request"))  # raised by the `requester` account
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    with db.transaction() as session:  # a cleared alarm's confirm-recovery check on it
        alarm = Alarm(received_by="monitoring", format="generic", source="zabbix", fingerprint="fp", status="resolved",
                      summary="告警已恢复", labels="{}", outcome="resolved", incident_id=incident_id)  # fmt: skip
        session.add(alarm)
        session.flush()
        check_id = recovery.open_check(session, SYSTEM, incident_id, alarm.id, utcnow())
    return {"incident": incident_id, "task": desk.task(incident_id, "confirm_resolution").id, "check": check_id}


def call(client: ApiClient, method: str, path: str, world) -> int:
    url = "/api/v1" + path.format(**world)
    answer = client.get(url) if method == "GET" else client.call(method, url, json=BODIES.get(path, {}))
    assert answer.status_code < 500, (url, answer.get_data(as_text=True))
    return answer.status_code


def test_every_api_route_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert endpoints == set(MATRIX) | PUBLIC


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_web_app_gives_it(app, db, actors, world, role):
    client = ApiClient(app.test_client(), make_token(db, actors, role))
    failures = []
    for endpoint, (method, path, _scope, rule) in MATRIX.items():
        status = call(client, method, path, world)
        if status not in rule(role):
            failures.append(f"{endpoint} {method} {path} as {role}: {status}, expected {sorted(rule(role))}")
    assert not failures, "\n".join(failures)


def test_no_token_is_401_and_a_missing_scope_403(app, db, actors, world):
    anonymous = ApiClient(app.test_client(), None)
    narrow = {
        scope: ApiClient(app.test_client(), make_token(db, actors, "service_desk", [scope])) for scope in tokens.SCOPES
    }
    for endpoint, (method, path, scope, _rule) in MATRIX.items():
        assert call(anonymous, method, path, world) == 401, endpoint
        for other, client in narrow.items():
            if scope is not None and other != scope:
                assert call(client, method, path, world) == 403, (endpoint, other)
    for public in ("/openapi.json", "/docs"):
        assert anonymous.get("/api/v1" + public).status_code == 200
