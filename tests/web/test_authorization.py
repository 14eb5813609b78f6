"""The authorization matrix: every route × every role (and signed out), and CSRF on every form post.

The roles a view allows are read from `required_roles` (set by `roles_required`); the views that
decide for themselves (public pages, pages for any signed-in user, the incident and task pages)
have their rule written down here. A route with neither fails the matrix: add its rule. The matrix
fails, row by row, when a view loses its role check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import url_for
from sqlalchemy import func, select

from app.attachments import service as files
from app.models import AuditEvent, OpenTask, ProcessVersion, User
from app.users import ROLES, create_user
from tests.conftest import FAST_HASH
from tests.driver import registration, resolved
from tests.web.conftest import Client

HANDLERS = {"service_desk", "first_line", "second_line_dev", "second_line_test", "second_line_is", "incident_manager"}
ANONYMOUS = "anonymous"
OTHER_REQUESTER = "requester2"  # a requester who did not raise the incident of the matrix
SUBJECTS = (ANONYMOUS, *ROLES, OTHER_REQUESTER)

ALLOW, DENY, HIDE, REFUSE = "allow", "deny (403)", "hide (404)", "refused by the service"
EXPECTED_STATUS = {ALLOW: {200, 302}, DENY: {403}, HIDE: {404}, REFUSE: {302, 403, 409}}


def roles_of(subject: str) -> set[str]:
    return {"requester"} if subject == OTHER_REQUESTER else {subject}


def signed_in(_subject: str) -> str:
    return ALLOW


def incident_page(subject: str) -> str:
    """The incident of the matrix belongs to the `requester` account; readers see every incident."""
    if roles_of(subject) & (HANDLERS | {"leadership", "auditor"}) or subject == "requester":
        return ALLOW
    return HIDE  # the same answer whether it does not exist or is someone else's


def task_page(subject: str) -> str:
    """The matrix's task is the requester's confirmation: theirs, the service desk's on their behalf;
    handlers may look at any task."""
    if roles_of(subject) & HANDLERS or subject == "requester":
        return ALLOW
    return DENY


def task_action(subject: str) -> str | None:
    """Claim/release/assign: the service refuses who may not (a message, nothing changes).
    Only subjects with no part in the task are sent."""
    if roles_of(subject) & HANDLERS or subject == "requester":
        return None  # allowed to try; the task tests cover what then happens
    return REFUSE


def internal_file(subject: str) -> str:
    """The matrix's attachment is internal (a handler's): readers open it; the requester, whose
    incident it is, gets the 404 of a missing file, like everyone else."""
    return ALLOW if roles_of(subject) & (HANDLERS | {"leadership", "auditor"}) else HIDE


# Views without `required_roles`: who gets what.
RULES: dict[str, Callable[[str], str | None]] = {
    "auth.password": signed_in,
    "home.index": signed_in,
    "incidents.detail": incident_page,
    "live.incident": incident_page,
    "inbox.task": task_page,
    "inbox.claim": task_action,
    "inbox.release": task_action,
    "inbox.assign": task_action,
    "attachments.download": internal_file,
    # each person's own notifications, contact details and settings (another's notification: 404)
    "notifications.index": signed_in,
    "notifications.unread": signed_in,
    "notifications.open_one": signed_in,
    "notifications.read_all": signed_in,
    "notifications.own_contact": signed_in,
    "notifications.preferences_page": signed_in,
    "tokens.index": signed_in,  # one's own tokens (an admin's: everyone's)
    "tokens.revoke": signed_in,  # the token service refuses another's token (404)
}
PUBLIC = {"auth.login", "auth.logout", "auth.language", "home.favicon"}  # no sign-in needed
# Probes and metrics for operations: answered the same signed in or not, by design (/metrics by the
# client's address or a token); tests/observability/ holds them.
OPERATIONS = {"health.healthz", "health.readyz", "health.metrics_page"}
PENDING: set[str] = set()  # pages still placeholders (404 for their roles); remove each once built

# The areas of this change, pinned: a widened role list fails here.
PINNED = {
    "portal": {"requester"},
    "manager": {"incident_manager"},
    "overview": {"leadership", "incident_manager"},
    "admin": {"admin"},
}


@dataclass
class World:
    incident_id: int
    task_id: str
    values: dict[str, object]


@pytest.fixture
def world(app, db, desk, actors) -> World:
    incident_id = desk.register(registration("request"))  # raised by the `requester` account
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    task = desk.task(incident_id, "confirm_resolution")
    attachment_id = files.attach(desk.service, actors["first_line"], incident_id, files.Upload("诊断.log", b"x\n"),
                                 files.Limits())  # fmt: skip
    with db.transaction() as session:
        create_user(session, OTHER_REQUESTER, "password123", ["requester"], hash_method=FAST_HASH)
        version_id = session.scalar(select(func.max(ProcessVersion.id)))
    values = {
        "incident_id": incident_id,
        "task_id": task.id,
        "user_id": actors["requester"].user_id,
        "version_id": version_id,
        "attachment_id": attachment_id,
    }
    return World(incident_id, task.id, values)


@pytest.fixture
def clients(app, world) -> dict[str, Client]:
    result = {}
    for subject in SUBJECTS:
        client = Client(app.test_client())
        result[subject] = client.sign_in(subject) if subject != ANONYMOUS else client
    result[ANONYMOUS].get("/login")  # a CSRF token, so that only the missing sign-in is refused
    return result


def routes(app) -> list:
    """The web app's routes. The API (`api.*`) takes no session and no CSRF token, only a bearer token:
    its own matrix is tests/api/test_authorization.py."""
    rules = (
        rule for rule in app.url_map.iter_rules() if rule.endpoint != "static" and not rule.endpoint.startswith("api.")
    )
    return sorted(rules, key=lambda r: r.rule)


PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def build(app, rule, world: World) -> tuple[str, bool]:
    """The rule's URL with real ids; False when some parameter had no real value."""
    values, complete = {}, True
    for converter, name in PARAMETER.findall(rule.rule):
        if name in world.values:
            values[name] = world.values[name]
        else:
            complete = False
            values[name] = 999_999 if converter in ("int", "float") else "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values), complete


def expectation(app, endpoint: str, subject: str) -> str | None:
    if endpoint in RULES:
        return RULES[endpoint](subject)
    roles = getattr(app.view_functions[endpoint], "required_roles", None)
    if roles is None:
        raise LookupError(f"{endpoint} has no role check (roles_required) and no rule in RULES: add one")
    return ALLOW if roles_of(subject) & set(roles) else DENY


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.location.split("?")[0].endswith("/login")


def run_matrix(app, world: World, clients: dict[str, Client], only: set[str] | None = None) -> tuple[list[str], int]:
    """(failed rows, number of checks) of the matrix, for all routes or `only` these endpoints."""
    failures, checked = [], 0
    for rule in routes(app):
        if (only is not None and rule.endpoint not in only) or rule.endpoint in OPERATIONS:
            continue
        url, complete = build(app, rule, world)
        gets = "GET" in rule.methods
        method = "GET" if gets else "POST"
        for subject in SUBJECTS:
            client = clients[subject]
            if rule.endpoint in PUBLIC:
                if gets:
                    checked += 1
                    status = client.get(url).status_code
                    if status != 200:
                        failures.append(f"{rule.endpoint} GET {url} as {subject}: {status}, expected 200")
                continue
            if subject == ANONYMOUS:
                checked += 1
                response = client.get(url) if gets else client.post(url, {})
                if not is_login_redirect(response):
                    failures.append(f"{rule.endpoint} {method} {url} signed out: {response.status_code}, "
                                    "expected a redirect to /login")  # fmt: skip
                continue
            try:
                expected = expectation(app, rule.endpoint, subject)
            except LookupError as error:
                failures.append(str(error))
                break
            if expected is None or (not gets and expected == ALLOW):
                continue  # form posts: only who must be turned away is sent (nothing may change)
            checked += 1
            response = client.get(url) if gets else client.post(url, {"assignee": str(world.values["user_id"])})
            allowed = set(EXPECTED_STATUS[expected])
            if expected == ALLOW and (not complete or rule.endpoint in PENDING):
                allowed.add(404)  # no real id for some parameter, or a page not built yet
            if response.status_code not in allowed or (expected == ALLOW and is_login_redirect(response)):
                failures.append(f"{rule.endpoint} {method} {url} as {subject}: {response.status_code}, "
                                f"expected {expected} {sorted(allowed)}")  # fmt: skip
    return failures, checked


def changes(session) -> int:
    """Audit rows of changes (a download is audited too, but changes nothing)."""
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.kind != "attachment_downloaded")
    return session.scalar(query)


@pytest.mark.long
def test_every_route_for_every_role(app, db, world, clients):
    with db.read() as session:
        audit_rows_before = changes(session)
    failures, checked = run_matrix(app, world, clients)
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)
    assert checked > len(SUBJECTS) * 20
    with db.read() as session:  # the refused posts changed nothing
        assert changes(session) == audit_rows_before
        downloads = session.scalars(select(AuditEvent.actor_role).where(AuditEvent.kind == "attachment_downloaded"))
        assert set(downloads) == HANDLERS | {"leadership", "auditor"}  # the readers' downloads, and only theirs
        assert session.get(OpenTask, world.task_id).assignee_id == world.values["user_id"]


def test_the_areas_of_this_change_keep_their_roles(app):
    seen = set()
    for endpoint, view in app.view_functions.items():
        blueprint = endpoint.split(".")[0]
        if blueprint in PINNED:
            seen.add(blueprint)
            assert set(getattr(view, "required_roles", ())) == PINNED[blueprint], endpoint
    assert seen == set(PINNED)


def test_the_matrix_fails_when_a_view_loses_its_role_check(app, world, clients, monkeypatch):
    original = app.view_functions["admin.users"]
    unguarded = original.__wrapped__  # the view below roles_required (functools.wraps keeps it)
    monkeypatch.setitem(app.view_functions, "admin.users", unguarded)
    failures, _ = run_matrix(app, world, clients, only={"admin.users"})
    assert failures == [
        "admin.users GET /admin/users signed out: 200, expected a redirect to /login",
        "admin.users has no role check (roles_required) and no rule in RULES: add one",
    ]

    def still_labelled(*args, **kwargs):  # says it needs admin, but checks nothing
        return unguarded(*args, **kwargs)

    still_labelled.required_roles = original.required_roles
    monkeypatch.setitem(app.view_functions, "admin.users", still_labelled)
    failures, checked = run_matrix(app, world, clients, only={"admin.users"})
    assert checked == len(SUBJECTS)
    assert any(row.startswith("admin.users GET /admin/users as leadership: 200") for row in failures)
    assert any("signed out" in row for row in failures)
    assert len(failures) == len(SUBJECTS) - 1  # every row but the admin's


def test_every_post_refuses_a_request_without_csrf_token(app, db, world, actors):
    with db.transaction() as session:
        create_user(session, "everything", "password123", list(ROLES), hash_method=FAST_HASH)
    client = Client(app.test_client()).sign_in("everything")
    with db.read() as session:
        users_before = session.scalar(select(func.count()).select_from(User))
        audit_rows_before = session.scalar(select(func.count()).select_from(AuditEvent))
    posts = [rule for rule in routes(app) if "POST" in rule.methods]
    assert len(posts) >= 10
    failures = []
    for rule in posts:
        url, _complete = build(app, rule, world)
        attempts = [({}, {}), ({"csrf_token": "forged"}, {}), ({}, {"X-CSRF-Token": "forged"})]
        for data, headers in attempts:
            response = client.post(url, {"assignee": str(actors["first_line"].user_id), **data}, csrf=False,
                                   headers=headers)  # fmt: skip
            if response.status_code != 400:
                failures.append(f"{rule.endpoint} POST {url} {data or headers or 'without token'}: "
                                f"{response.status_code}")  # fmt: skip
    assert not failures, "\n".join(failures)
    assert client.get("/admin/users").status_code == 200  # still signed in (sign-out was refused too)
    with db.read() as session:  # and nothing happened
        assert session.scalar(select(func.count()).select_from(User)) == users_before
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_rows_before
        assert session.get(OpenTask, world.task_id).assignee_id == actors["requester"].user_id
